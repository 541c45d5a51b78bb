<?php
// Demo chat: the token a page polls with. It covers the chat (demo.chat)
// and the presence channel (demo.presence) and names the page's user with
// the name it chose, which the other pages show in their "online" list.
//
// POST /demo/token.php  {"name": "...", "user": "<16 hex digits>"}
//   ->  200 {"token": "...", "expires": <unix seconds>}
//
// A real site names the user of its own session here; the demo has no
// accounts, so the page picks a random id and keeps it. The secret is the
// gateway's token-secret, from the environment (COMET_TOKEN_SECRET), which
// scripts/up.sh sets for both.
require __DIR__ . '/common.php';

const TOKEN_TTL = 3600;

$in = json_post();
$name = chat_name($in['name'] ?? null);
$user = $in['user'] ?? null;
if (!is_string($user) || !preg_match('/\A[0-9a-f]{16}\z/', $user)) {
    reply(400, ['error' => 'bad_user', 'message' => 'user: 16 lowercase hex digits']);
}
$secret = getenv('COMET_TOKEN_SECRET');
if (!is_string($secret) || $secret === '') {
    error_log('token.php: COMET_TOKEN_SECRET is not set');
    reply(503, ['error' => 'unavailable', 'message' => 'no token secret configured']);
}
$token = Comet::token($secret, ['demo.chat', 'demo.presence'], TOKEN_TTL,
    ['user' => $user, 'info' => ['name' => $name]]);
reply(200, ['token' => $token, 'expires' => time() + TOKEN_TTL]);
