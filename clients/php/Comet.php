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
     * @throws InvalidArgumentException when the channel name is not valid
     * @throws RuntimeException when Redis refuses the command
     * @throws RedisException when the connection fails
     */
    public static function publish(Redis $r, string $channel, string $payload): void
    {
        self::assertChannel($channel);
        $result = $r->rawCommand('PUBLISH', self::$prefix . $channel, $payload);
        if ($result === false) {
            $error = $r->getLastError();
            throw new RuntimeException('Comet::publish: Redis PUBLISH failed' .
                ($error !== null ? ': ' . $error : ''));
        }
    }

    /**
     * Durable publishing (no loss across gateway restarts, Redis reconnects
     * and instance switches); returns the message id.
     *
     * NOT SUPPORTED YET: durable channels are not implemented by the gateway
     * in this release. This method always throws, so that code written for
     * it fails loudly instead of silently falling back to at-most-once
     * delivery. Use Comet::publish() meanwhile.
     *
     * @throws LogicException always, for now
     */
    public static function publishDurable(Redis $r, string $channel, string $payload): string
    {
        self::assertChannel($channel);
        throw new LogicException(
            'Comet::publishDurable is not supported yet: durable channels are not ' .
            'implemented by comet-gateway in this release; use Comet::publish()'
        );
    }

    /**
     * An access token for the gateway's `token` parameter, valid for
     * $ttlSeconds, covering $channels (exact names, or a prefix ending in
     * "*", e.g. "user.42.*"; a lone "*" covers every channel).
     *
     * Format (all parts base64url without padding, RFC 4648 section 5):
     *
     *     token   = payload "." signature
     *     payload = base64url(json_encode({"ch": [names...], "exp": <unix seconds>}))
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
     * @throws InvalidArgumentException on an empty secret, no channels, a bad
     *         channel pattern or a non-positive TTL
     */
    public static function token(string $secret, array $channels, int $ttlSeconds): string
    {
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
        $payload = self::base64url(json_encode(
            ['ch' => array_values($names), 'exp' => time() + $ttlSeconds],
            JSON_UNESCAPED_SLASHES
        ));
        return $payload . '.' . self::base64url(hash_hmac('sha256', $payload, $secret, true));
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

    private static function base64url(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }
}
