<?php
// Demo chat: who is in demo.presence now, as Redis holds it
// (Comet::presence). A page that follows the chat through another tab's
// connection (?shared=1) starts its list from this, since that connection's
// own member list went by before the page opened.
//
// GET /demo/members.php  ->  200 {"members": [{"user": "...", "info": {"name": "..."}}, ...]}
require __DIR__ . '/common.php';

if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'GET') {
    header('Allow: GET');
    reply(405, ['error' => 'method_not_allowed', 'message' => 'use GET']);
}
try {
    $members = Comet::presence(redis_connection(), 'demo.presence');
} catch (Throwable $e) {
    error_log('members.php: ' . $e->getMessage());
    reply(503, ['error' => 'unavailable', 'message' => 'could not read the members']);
}
reply(200, ['members' => $members]);
