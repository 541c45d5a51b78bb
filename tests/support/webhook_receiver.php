<?php
// A site's webhook endpoint for the tests (tests/integration/webhook_test.cpp),
// run as `php -S` router script: verifies each POST with Comet::verifyWebhook
// and appends one JSON line per request to $WEBHOOK_LOG:
//   {"query":..., "attempt":N, "verified":bool, "user_agent":..., "content_type":...,
//    "signature":..., "body":..., "status":N}
// The query string chooses how it answers, counted per query string:
//   fail=N   the first N requests get 500
//   hang=N   the first N requests get no answer for sleep=S seconds (default 2)
// A request that does not verify gets 401; any other, 200.
require __DIR__ . '/../../clients/php/Comet.php';

$query = $_SERVER['QUERY_STRING'] ?? '';
parse_str($query, $options);
$log = getenv('WEBHOOK_LOG');

// One counter per query string, all in one file beside the log
// ("<log>.counts": {query: attempts}), under a lock.
$counts = fopen($log . '.counts', 'c+');
flock($counts, LOCK_EX);
$all = json_decode(stream_get_contents($counts) ?: '{}', true) ?: [];
$attempt = ($all[$query] ?? 0) + 1;
$all[$query] = $attempt;
ftruncate($counts, 0);
rewind($counts);
fwrite($counts, json_encode($all));
flock($counts, LOCK_UN);
fclose($counts);

$body = file_get_contents('php://input');
$signature = $_SERVER['HTTP_X_COMET_SIGNATURE'] ?? '';
$verified = Comet::verifyWebhook(getenv('WEBHOOK_SECRET'), $body, $signature);
$hang = $attempt <= (int) ($options['hang'] ?? 0);
if ($hang) {
    $status = 0;
} elseif (!$verified) {
    $status = 401;
} elseif ($attempt <= (int) ($options['fail'] ?? 0)) {
    $status = 500;
} else {
    $status = 200;
}
file_put_contents($log, json_encode([
    'query' => $query,
    'attempt' => $attempt,
    'method' => $_SERVER['REQUEST_METHOD'],
    'verified' => $verified,
    'user_agent' => $_SERVER['HTTP_USER_AGENT'] ?? '',
    'content_type' => $_SERVER['CONTENT_TYPE'] ?? '',
    'signature' => $signature,
    'body' => $body,
    'status' => $status,
], JSON_UNESCAPED_SLASHES) . "\n", FILE_APPEND | LOCK_EX);

if ($hang) {
    sleep((int) ($options['sleep'] ?? 2));
    exit;
}
http_response_code($status);
echo $status === 200 ? "ok\n" : "no\n";
