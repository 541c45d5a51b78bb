<?php
// Demo chat: publishes one chat line to channel demo.chat, the way a site's
// PHP does it: Comet::publish() -> Redis PUBLISH comet:demo.chat.
//
// POST /demo/send.php  {"name": "...", "text": "..."}  ->  202 {"ok":true}
//
// Redis address from the environment (COMET_REDIS_HOST, COMET_REDIS_PORT),
// default 127.0.0.1:6379.
require __DIR__ . '/../../clients/php/Comet.php';

const MAX_NAME = 40;
const MAX_TEXT = 500;

function reply(int $status, array $body): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    header('Cache-Control: no-store');
    echo json_encode($body, JSON_UNESCAPED_SLASHES), "\n";
    exit;
}

// Characters, not bytes; false when $s is not valid UTF-8.
function utf8_length(string $s)
{
    $n = preg_match_all('/./us', $s);
    return $n === false ? false : $n;
}

if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
    header('Allow: POST');
    reply(405, ['error' => 'method_not_allowed', 'message' => 'use POST']);
}
$raw = file_get_contents('php://input', false, null, 0, 16384);
$in = json_decode($raw === false ? '' : $raw, true);
if (!is_array($in) || !is_string($in['name'] ?? null) || !is_string($in['text'] ?? null)) {
    reply(400, ['error' => 'bad_request', 'message' => 'expected JSON {"name": "...", "text": "..."}']);
}
$name = trim($in['name']);
$text = trim($in['text']);
$nameLength = utf8_length($name);
$textLength = utf8_length($text);
if ($nameLength === false || $nameLength < 1 || $nameLength > MAX_NAME) {
    reply(400, ['error' => 'bad_name', 'message' => 'name: 1 to ' . MAX_NAME . ' characters']);
}
if ($textLength === false || $textLength < 1 || $textLength > MAX_TEXT) {
    reply(400, ['error' => 'bad_text', 'message' => 'text: 1 to ' . MAX_TEXT . ' characters']);
}

$payload = json_encode(
    ['name' => $name, 'text' => $text, 'ts' => time()],
    JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES
);
try {
    $redis = new Redis();
    $redis->connect(getenv('COMET_REDIS_HOST') ?: '127.0.0.1', (int)(getenv('COMET_REDIS_PORT') ?: 6379), 2.0);
    Comet::publish($redis, 'demo.chat', $payload);
} catch (Throwable $e) {
    error_log('send.php: ' . $e->getMessage());
    reply(503, ['error' => 'unavailable', 'message' => 'could not publish']);
}
reply(202, ['ok' => true]);
