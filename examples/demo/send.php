<?php
// Demo chat: publishes one chat line to channel demo.chat, the way a site's
// PHP does it: Comet::publish() -> Redis PUBLISH comet:demo.chat.
//
// POST /demo/send.php  {"name": "...", "text": "..."}  ->  202 {"ok":true}
require __DIR__ . '/common.php';

const MAX_TEXT = 500;

$in = json_post();
if (!is_string($in['name'] ?? null) || !is_string($in['text'] ?? null)) {
    reply(400, ['error' => 'bad_request', 'message' => 'expected JSON {"name": "...", "text": "..."}']);
}
$name = chat_name($in['name']);
$text = trim($in['text']);
$textLength = utf8_length($text);
if ($textLength === false || $textLength < 1 || $textLength > MAX_TEXT) {
    reply(400, ['error' => 'bad_text', 'message' => 'text: 1 to ' . MAX_TEXT . ' characters']);
}

$payload = json_encode(
    ['name' => $name, 'text' => $text, 'ts' => time()],
    JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES
);
try {
    Comet::publish(redis_connection(), 'demo.chat', $payload);
} catch (Throwable $e) {
    error_log('send.php: ' . $e->getMessage());
    reply(503, ['error' => 'unavailable', 'message' => 'could not publish']);
}
reply(202, ['ok' => true]);
