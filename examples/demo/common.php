<?php
// What the demo chat's PHP endpoints share: JSON answers, the JSON request
// body, the name rule and the Redis connection. Not an endpoint itself
// (nginx passes only send.php and token.php to PHP).
require __DIR__ . '/../../clients/php/Comet.php';

const MAX_NAME = 40;

function reply(int $status, array $body): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    header('Cache-Control: no-store');
    echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
    exit;
}

// Characters, not bytes; false when $s is not valid UTF-8.
function utf8_length(string $s)
{
    $n = preg_match_all('/./us', $s);
    return $n === false ? false : $n;
}

// The POSTed JSON object, or a 405/400 answer.
function json_post(): array
{
    if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
        header('Allow: POST');
        reply(405, ['error' => 'method_not_allowed', 'message' => 'use POST']);
    }
    $raw = file_get_contents('php://input', false, null, 0, 16384);
    $in = json_decode($raw === false ? '' : $raw, true);
    if (!is_array($in)) {
        reply(400, ['error' => 'bad_request', 'message' => 'expected a JSON object']);
    }
    return $in;
}

// The trimmed name, or a 400 answer: 1 to MAX_NAME characters of UTF-8.
function chat_name($name): string
{
    $name = is_string($name) ? trim($name) : '';
    $length = utf8_length($name);
    if ($length === false || $length < 1 || $length > MAX_NAME) {
        reply(400, ['error' => 'bad_name', 'message' => 'name: 1 to ' . MAX_NAME . ' characters']);
    }
    return $name;
}

// Redis address from the environment (COMET_REDIS_HOST, COMET_REDIS_PORT),
// default 127.0.0.1:6379.
function redis_connection(): Redis
{
    $redis = new Redis();
    $redis->connect(getenv('COMET_REDIS_HOST') ?: '127.0.0.1', (int)(getenv('COMET_REDIS_PORT') ?: 6379), 2.0);
    return $redis;
}
