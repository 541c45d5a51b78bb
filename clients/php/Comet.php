<?php
/**
 * Comet: publish to comet-gateway from PHP (PHP 7.4+, phpredis).
 *
 * The gateway subscribes to Redis with PSUBSCRIBE "<prefix>*" and releases
 * every parked long-poll on channel NAME when something is published to
 * "<prefix>NAME" (default prefix "comet:"). Publishing is therefore a plain
 * Redis PUBLISH; this file adds channel-name validation, the prefix, and
 * access tokens. It is one file on purpose: copy it into any site.
 *
 *     require __DIR__ . '/Comet.php';
 *     $redis = new Redis();
 *     $redis->connect('127.0.0.1', 6379);
 *     Comet::publish($redis, 'chat.42', json_encode(['text' => 'hi']));
 *
 * Every function that takes a Redis connection takes a RedisCluster too
 * (new RedisCluster(null, ['10.0.0.1:7000', '10.0.0.2:7000'])): commands
 * go to the master that serves the channel's slot.
 *
 * The payload is opaque bytes and reaches the browser byte for byte: valid
 * UTF-8 arrives as the "data" string of the poll response, anything else
 * as "data_base64".
 */
final class Comet
{
    /**
     * Redis channel prefix; must match the gateway's --prefix.
     * @var string
     */
    public static $prefix = 'comet:';

    /** Channel names: 1 to 128 of A-Z a-z 0-9 _ . : @ - */
    public const CHANNEL_PATTERN = '/\A[A-Za-z0-9_.:@\-]{1,128}\z/';

    /**
     * Publishes $payload on channel $channel (Redis channel $prefix.$channel).
     *
     * The bytes are sent with rawCommand('PUBLISH', ...) so that phpredis
     * options set on the connection (OPT_PREFIX, OPT_SERIALIZER,
     * compression) never alter the channel name or the payload.
     *
     * Plain PUBLISH is at-most-once: a gateway that is reconnecting to Redis
     * misses the message, and its clients are told so through "gaps" in the
     * next poll response, never silently.
     *
     * @param Redis|RedisCluster $r
     * @throws InvalidArgumentException when the channel name is not valid
     * @throws RuntimeException when Redis refuses the command
     * @throws RedisException when the connection fails (RedisClusterException for a
     *         RedisCluster connection)
     */
    public static function publish($r, string $channel, string $payload): void
    {
        self::assertChannel($channel);
        $result = self::command($r, self::$prefix . $channel,
            ['PUBLISH', self::$prefix . $channel, $payload]);
        if ($result === false) {
            $error = $r->getLastError();
            throw new RuntimeException('Comet::publish: Redis PUBLISH failed' .
                ($error !== null ? ': ' . $error : ''));
        }
    }

    /**
     * Entries kept per durable channel (about: Redis trims whole stream
     * nodes, MAXLEN ~). A client further behind than this gets a gap.
     * @var int
     */
    public static $streamMaxLen = 10000;

    /**
     * Seconds a durable channel's history is kept after its last publish
     * (the stream key's TTL); 0 keeps it until trimmed by length.
     * @var int
     */
    public static $streamTtl = 86400;

    /**
     * Publishes $payload on channel $channel durably and returns its message
     * id (the Redis stream entry id, e.g. "1718000000000-0"; the gateway
     * sends the same text as the message's "id").
     *
     * One atomic Redis function call (deploy/redis/comet.lua, FCALL
     * comet_publish_v1) appends the payload to the channel's stream
     * "<prefix>{NAME}:stream" and PUBLISHes it on "<prefix>NAME" as
     * Comet::publish() does, so plain subscribers still get the raw payload.
     * Gateways read what they missed from the stream: nothing published
     * durably is lost across gateway restarts, Redis reconnects or a
     * client's polls landing on different gateways, as long as Redis keeps
     * the stream (persistence on; see deploy/redis/README.md). Needs Redis 7.
     * Publish a channel either always durably or never.
     *
     * The function is loaded into Redis by the gateway; when it is missing
     * (a Redis that restarted without persistence) this loads it and retries.
     *
     * @param Redis|RedisCluster $r
     * @throws InvalidArgumentException when the channel name is not valid
     * @throws RuntimeException when Redis refuses the command
     * @throws RedisException when the connection fails (RedisClusterException for a
     *         RedisCluster connection)
     */
    public static function publishDurable($r, string $channel, string $payload): string
    {
        self::assertChannel($channel);
        $key = self::$prefix . '{' . $channel . '}:stream';
        $args = ['FCALL', 'comet_publish_v1', '1', $key,
            self::$prefix . $channel, self::$prefix . '#durable:' . $channel, $payload,
            (string)self::$streamMaxLen, (string)self::$streamTtl];
        $id = self::command($r, $key, $args);
        if ($id === false && stripos((string)$r->getLastError(), 'function not found') !== false) {
            $r->clearLastError();
            // In a cluster: on the master that serves the stream's slot.
            $loaded = self::command($r, $key, ['FUNCTION', 'LOAD', self::LIBRARY]);
            if ($loaded === false && stripos((string)$r->getLastError(), 'already exists') === false) {
                throw new RuntimeException('Comet::publishDurable: FUNCTION LOAD failed: ' .
                    $r->getLastError());
            }
            $r->clearLastError();
            $id = self::command($r, $key, $args);
        }
        if (!is_string($id)) {
            $error = $r->getLastError();
            throw new RuntimeException('Comet::publishDurable: Redis FCALL failed' .
                ($error !== null ? ': ' . $error : ''));
        }
        return $id;
    }

    /**
     * An access token for the gateway's `token` parameter, valid for
     * $ttlSeconds, covering $channels (exact names, or a prefix ending in
     * "*", e.g. "user.42.*"; a lone "*" covers every channel).
     *
     * $identity may name the user who holds it: ['user' => '7'] (a string of
     * 1 to 128 bytes), with what the site says of them, ['info' => ['name' =>
     * 'Ann']] (encoded as a JSON object of at most 1,024 bytes).
     *
     * Format (all parts base64url without padding, RFC 4648 section 5):
     *
     *     token   = payload "." signature
     *     payload = base64url(json_encode({"ch": [names...], "exp": <unix seconds>
     *                                      [, "user": "<id>" [, "info": {...}]]}))
     *     signature = base64url(hash_hmac('sha256', payload, $secret, true))
     *
     * The HMAC-SHA256 is computed over the payload exactly as it appears in
     * the token (its base64url text), so the gateway verifies it before
     * decoding anything, in constant time, then checks "exp" against its
     * clock and that every requested channel is covered by "ch". The JSON is
     * encoded with JSON_UNESCAPED_SLASHES; channel names contain no
     * characters that JSON escapes.
     *
     * @param string[] $channels
     * @param array{user?: string, info?: array} $identity
     * @throws InvalidArgumentException on an empty secret, no channels, a bad
     *         channel pattern, a non-positive TTL, or a bad user or info
     */
    public static function token(
        string $secret,
        array $channels,
        int $ttlSeconds,
        array $identity = []
    ): string {
        if ($secret === '') {
            throw new InvalidArgumentException('Comet::token: empty secret');
        }
        if ($ttlSeconds <= 0) {
            throw new InvalidArgumentException('Comet::token: TTL must be positive');
        }
        if (count($channels) === 0) {
            throw new InvalidArgumentException('Comet::token: no channels');
        }
        $names = [];
        foreach ($channels as $channel) {
            if (!is_string($channel)) {
                throw new InvalidArgumentException('Comet::token: channel names must be strings');
            }
            $name = substr($channel, -1) === '*' ? substr($channel, 0, -1) : $channel;
            if ($name !== '' || $channel !== '*') {
                self::assertChannel($name);
            }
            $names[] = $channel;
        }
        $claims = ['ch' => array_values($names), 'exp' => time() + $ttlSeconds];
        foreach (array_keys($identity) as $key) {
            if ($key !== 'user' && $key !== 'info') {
                throw new InvalidArgumentException("Comet::token: unknown identity key '$key'");
            }
        }
        if (isset($identity['info']) && !isset($identity['user'])) {
            throw new InvalidArgumentException('Comet::token: info without a user');
        }
        if (isset($identity['user'])) {
            $user = $identity['user'];
            if (!is_string($user) || $user === '' || strlen($user) > 128) {
                throw new InvalidArgumentException('Comet::token: user must be a string of 1 to 128 bytes');
            }
            $claims['user'] = $user;
        }
        if (isset($identity['info'])) {
            if (!is_array($identity['info'])) {
                throw new InvalidArgumentException('Comet::token: info must be an array');
            }
            $info = json_encode((object) $identity['info'], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
            if ($info === false || strlen($info) > 1024) {
                throw new InvalidArgumentException('Comet::token: info must encode as JSON of at most 1024 bytes');
            }
            $claims['info'] = (object) $identity['info'];
        }
        $json = json_encode($claims, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        if ($json === false) {
            throw new InvalidArgumentException('Comet::token: user and info must be valid UTF-8');
        }
        $payload = self::base64url($json);
        return $payload . '.' . self::base64url(hash_hmac('sha256', $payload, $secret, true));
    }

    /**
     * Verifies a webhook from the gateway: $signatureHeader is the request's
     * X-Comet-Signature header ($_SERVER['HTTP_X_COMET_SIGNATURE']), $body the
     * raw request body (file_get_contents('php://input')), $secret the
     * gateway's --webhook-secret. Only the exact form "sha256=" followed by
     * 64 lowercase hex digits is accepted; the comparison takes constant
     * time. Decode the body only after this returned true.
     *
     *     $body = file_get_contents('php://input');
     *     if (!Comet::verifyWebhook($secret, $body, $_SERVER['HTTP_X_COMET_SIGNATURE'] ?? '')) {
     *         http_response_code(401);
     *         exit;
     *     }
     *     foreach (json_decode($body, true)['events'] as $event) { ... }
     */
    public static function verifyWebhook(string $secret, string $body, string $signatureHeader): bool
    {
        if ($secret === '' || preg_match('/\Asha256=[0-9a-f]{64}\z/', $signatureHeader) !== 1) {
            return false;
        }
        return hash_equals('sha256=' . hash_hmac('sha256', $body, $secret), $signatureHeader);
    }

    /** True when $channel is a valid channel name. */
    public static function isValidChannel(string $channel): bool
    {
        return preg_match(self::CHANNEL_PATTERN, $channel) === 1;
    }

    private static function assertChannel(string $channel): void
    {
        if (!self::isValidChannel($channel)) {
            throw new InvalidArgumentException(
                'Comet: invalid channel name (1-128 of A-Z a-z 0-9 _ . : @ -): ' .
                json_encode($channel, JSON_INVALID_UTF8_SUBSTITUTE)
            );
        }
    }

    /**
     * deploy/redis/comet.lua, byte for byte (a test checks that they match).
     */
    private const LIBRARY = <<<'LUA'
#!lua name=comet_v1
--
-- comet-gateway durable channels: a Redis 7 function library.
--
-- comet-gateway loads it at start (FUNCTION LOAD, on its command connection)
-- when it is missing; clients/php/Comet.php carries the same text and loads
-- it too when FCALL says the function is missing (a Redis restarted without
-- persistence). To load it by hand:
--
--     redis-cli -x FUNCTION LOAD < deploy/redis/comet.lua
--
-- The library name carries a version: a changed library gets a new name
-- (comet_v2 ...), so that gateways of different versions can share a Redis
-- and "load if missing" never has to replace anything.
--
-- Keys: channel NAME keeps its history in the stream "<prefix>{NAME}:stream"
-- (the hash tag puts all of one channel's keys in one cluster slot; '{' and
-- '}' cannot occur in a channel name, so the tag is always the whole name).
-- Each entry has two fields:
--   d  the payload, byte for byte
--   p  the id of the entry before it in this stream, or "*" for the first
--      entry of a stream that did not exist (new, expired or lost): the
--      reader tells from it, exactly, whether entries after a position were
--      trimmed (MAXLEN) or lost with the key, which Redis 7.0 itself does
--      not record for trimming (max-deleted-entry-id stays 0-0).

-- "ms-seq" compared as numbers (Lua numbers hold ms exactly; seq too, far
-- beyond anything one millisecond produces).
local function id_less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  if am ~= bm then return am < bm end
  return as < bs
end

-- FCALL comet_publish_v1 1 <stream key> <channel> <notice channel> <payload> <maxlen> <ttl seconds>
--
-- Appends the payload to the stream (trimmed to about maxlen entries, the
-- key expiring ttl seconds after the last publish; 0 = no expiry), then
-- PUBLISHes the entry id on the notice channel "<prefix>#durable:NAME" and
-- the raw payload on "<prefix>NAME". One function runs atomically, so every
-- subscriber receives the two messages back to back: the gateway pairs
-- them, and plain subscribers of <prefix>NAME see the payload as from a
-- plain PUBLISH. Returns the entry id, which is also the message id.
local function publish(keys, args)
  local key = keys[1]
  local maxlen = tonumber(args[4])
  local ttl = tonumber(args[5])
  local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  local prev = '*'
  if #last > 0 then prev = last[1][1] end
  local id
  if maxlen ~= nil and maxlen > 0 then
    id = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'd', args[3], 'p', prev)
  else
    id = redis.call('XADD', key, '*', 'd', args[3], 'p', prev)
  end
  if ttl ~= nil and ttl > 0 then redis.call('EXPIRE', key, ttl) end
  redis.call('PUBLISH', args[2], id)
  redis.call('PUBLISH', args[1], args[3])
  return id
end

-- FCALL_RO comet_read_v1 1 <stream key> <after id> <count>
--
-- The entries after <after id> (exclusive), at most <count>, and whether
-- any entry after <after id> is gone. Reply:
--   { status, base, id1, payload1, id2, payload2, ... }
-- status "ok":   the entries are exactly the stream after <after id>.
-- status "gap":  entries after <after id> were trimmed or lost; the entries
--                returned are exactly the stream after <base>.
-- status "none": no such stream (never published durably, expired, or lost).
local function read(keys, args)
  local key = keys[1]
  local after = args[1]
  if redis.call('EXISTS', key) == 0 then return {'none', after} end
  local entries = redis.call('XRANGE', key, '(' .. after, '+', 'COUNT', tonumber(args[2]))
  local out = {'ok', after}
  for i, e in ipairs(entries) do
    local fields = e[2]
    local d, p = '', '*'
    for j = 1, #fields, 2 do
      if fields[j] == 'd' then d = fields[j + 1] elseif fields[j] == 'p' then p = fields[j + 1] end
    end
    if i == 1 and after ~= '0-0' and (p == '*' or id_less(after, p)) then
      -- The entry before the first one returned is not <after id>: what lay
      -- between is gone. "*": the stream began again after <after id>.
      -- (After "0-0" nothing can be missing: that reader had nothing.)
      out[1] = 'gap'
      out[2] = p
    end
    out[#out + 1] = e[1]
    out[#out + 1] = d
  end
  return out
end

redis.register_function('comet_publish_v1', publish)
redis.register_function{function_name = 'comet_read_v1', callback = read, flags = {'no-writes'}}
LUA;

    /**
     * rawCommand on a Redis connection, or on a RedisCluster routed by $key
     * (the master serving its slot; phpredis follows MOVED / ASK). A PUBLISH
     * sent to any node of a cluster reaches every node.
     */
    /**
     * The members of presence channel $channel (a channel the gateways name
     * with --presence), as every gateway sees them: a list of
     * ['user' => string, 'info' => array] (info: what the member's token
     * said of it, [] when nothing), sorted by user.
     *
     * @param Redis|RedisCluster $r
     * @throws InvalidArgumentException when the channel name is not valid
     * @throws RuntimeException when Redis refuses the command
     */
    public static function presence($r, string $channel): array
    {
        self::assertChannel($channel);
        $key = self::$prefix . '{' . $channel . '}:presence';
        $users = self::command($r, $key, ['ZRANGE', $key, '0', '-1']);
        if (!is_array($users)) {
            throw new RuntimeException('Comet::presence: Redis ZRANGE failed');
        }
        sort($users, SORT_STRING);
        $members = [];
        foreach (array_chunk($users, 1000) as $slice) {
            $infos = self::command($r, $key, array_merge(['HMGET', $key . ':info'], $slice));
            if (!is_array($infos)) {
                throw new RuntimeException('Comet::presence: Redis HMGET failed');
            }
            foreach ($slice as $i => $user) {
                $info = is_string($infos[$i] ?? null) && $infos[$i] !== ''
                    ? json_decode($infos[$i], true) : [];
                $members[] = ['user' => (string) $user, 'info' => is_array($info) ? $info : []];
            }
        }
        return $members;
    }

    /**
     * The clients (parked polls and open streams) on each of $channels,
     * summed over the gateways sharing this Redis, as of their last
     * reports (every 2 s): [channel => clients], 0 for a channel nobody
     * follows. Works for every channel, not only presence ones.
     *
     * @param Redis|RedisCluster $r
     * @param string[] $channels
     * @throws InvalidArgumentException when a channel name is not valid
     * @throws RuntimeException when Redis refuses a command
     */
    public static function occupancy($r, array $channels): array
    {
        $channels = array_values(array_unique(array_map('strval', $channels)));
        foreach ($channels as $channel) {
            self::assertChannel($channel);
        }
        $counts = array_fill_keys($channels, 0);
        if ($channels === []) {
            return $counts;
        }
        $registry = self::$prefix . '#gateways';
        $now = (string) (int) (microtime(true) * 1000);
        $gateways = self::command($r, $registry, ['ZRANGEBYSCORE', $registry, $now, '+inf']);
        if (!is_array($gateways)) {
            throw new RuntimeException('Comet::occupancy: Redis ZRANGEBYSCORE failed');
        }
        foreach ($gateways as $gateway) {
            $key = self::$prefix . '#occupancy:' . $gateway;
            $values = self::command($r, $key, array_merge(['HMGET', $key], $channels));
            if (!is_array($values)) {
                throw new RuntimeException('Comet::occupancy: Redis HMGET failed');
            }
            foreach ($channels as $i => $channel) {
                $counts[$channel] += (int) ($values[$i] ?? 0);
            }
        }
        return $counts;
    }

    private static function command($r, string $key, array $args)
    {
        if ($r instanceof RedisCluster) {
            return $r->rawCommand($key, ...$args);
        }
        if ($r instanceof Redis) {
            return $r->rawCommand(...$args);
        }
        throw new TypeError('Comet: expected a Redis or RedisCluster connection, got ' .
            (is_object($r) ? get_class($r) : gettype($r)));
    }

    private static function base64url(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }
}
