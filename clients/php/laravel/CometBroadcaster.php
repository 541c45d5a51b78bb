<?php
// Laravel's redis broadcaster with comet-gateway tokens: events are published
// in the 'redis' driver's format ({"event":...,"data":...,"socket":...}) with
// PUBLISH on <redis prefix><channel> (the gateway's --prefix is the Redis
// connection's prefix, laravel_database_ by default), and /broadcasting/auth answers
// a comet token for the private and presence channels the app's channel
// callbacks (routes/channels.php) allow, 403 for the others.
//
// The connector (clients/js/comet-echo.js) asks for one channel at a time
// (channel_name) and names the other guarded channels the page holds
// (channels[]): a poll carries one token, so the answer's token covers all
// of them that the callbacks still allow. Answer:
//   {"token":"...","channels":["private-user.7",...],"expires_in":3600}
// and, for a presence channel, Laravel's "channel_data" as well.

namespace CometGateway\Laravel;

use Comet;
use Illuminate\Broadcasting\Broadcasters\RedisBroadcaster;
use Illuminate\Contracts\Redis\Factory as Redis;
use Illuminate\Support\Arr;
use Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException;

if (!class_exists(Comet::class)) {
    require_once __DIR__ . '/../Comet.php';
}

class CometBroadcaster extends RedisBroadcaster
{
    /** @var string one of the gateway's --token-secret values */
    protected $secret;

    /** @var int seconds a token is valid (the connector renews it before) */
    protected $ttl;

    /** Guarded channels one answer covers at most (the gateway's --max-channels is 64). */
    public const MAX_CHANNELS = 32;

    public function __construct(Redis $redis, $connection, string $prefix, string $secret, int $ttl = 3600)
    {
        parent::__construct($redis, $connection, $prefix);
        if (strlen($secret) < 16) {
            throw new \InvalidArgumentException('comet broadcaster: secret must be one of the gateway\'s --token-secret values (16+ characters)');
        }
        $this->secret = $secret;
        $this->ttl = $ttl;
    }

    // The redis driver's payload, sent with PUBLISH rather than its EVAL
    // script: phpredis puts the connection's prefix on PUBLISH's channel but
    // not on a script's arguments, so the redis driver publishes
    // on the bare channel name and the gateway could not tell the app's
    // channels from anything else on that Redis.
    public function broadcast(array $channels, $event, array $payload = [])
    {
        if (empty($channels)) {
            return;
        }
        $connection = $this->redis->connection($this->connection);
        $payload = json_encode([
            'event' => $event,
            'data' => $payload,
            'socket' => Arr::pull($payload, 'socket'),
        ]);
        foreach ($this->formatChannels($channels) as $channel) {
            $connection->publish($channel, $payload);
        }
    }

    public function auth($request)
    {
        $name = $request->input('channel_name');
        if (!is_string($name) || $name === '') {
            throw new AccessDeniedHttpException;
        }
        $others = $request->input('channels', []);
        $others = is_array($others) ? array_values(array_filter($others, 'is_string')) : [];
        $others = array_slice(array_values(array_diff(array_unique($others), [$name])), 0, self::MAX_CHANNELS - 1);

        // The channel asked for decides the status: refused, 403.
        $result = $this->allowed($request, $name);
        if ($result === false) {
            throw new AccessDeniedHttpException;
        }
        $granted = [$name => $result];
        foreach ($others as $other) {
            $r = $this->allowed($request, $other);
            if ($r !== false) {
                $granted[$other] = $r;
            }
        }

        $answer = ['token' => '', 'channels' => array_keys($granted), 'expires_in' => $this->ttl];
        $identity = [];
        $user = $this->retrieveUser($request, $this->normalizeChannelName($name));
        if ($user) {
            $id = method_exists($user, 'getAuthIdentifierForBroadcasting')
                ? $user->getAuthIdentifierForBroadcasting()
                : $user->getAuthIdentifier();
            $identity['user'] = (string) $id;
            // A token has one info: that of the first presence channel (the
            // ones held first, in the order the page holds them).
            foreach (array_merge($others, [$name]) as $channel) {
                if (isset($granted[$channel]) && strpos($channel, 'presence-') === 0 && is_array($granted[$channel])) {
                    $identity['info'] = $granted[$channel];
                    break;
                }
            }
            if (strpos($name, 'presence-') === 0) {
                $answer['channel_data'] = ['user_id' => $id, 'user_info' => $result];
            }
        }
        $answer['token'] = Comet::token($this->secret, array_keys($granted), $this->ttl, $identity);
        return $answer;
    }

    // What the app's channel callback returned for $channel (true or the
    // presence info), false when it refuses it or nobody is logged in.
    // Public channels need no token and are refused here.
    protected function allowed($request, string $channel)
    {
        if (!$this->isGuardedChannel($channel) || !Comet::isValidChannel($channel)) {
            return false;
        }
        $normalized = $this->normalizeChannelName(str_replace($this->prefix, '', $channel));
        $user = $this->retrieveUser($request, $normalized);
        if (!$user) {
            return false;
        }
        foreach ($this->channels as $pattern => $callback) {
            if (!$this->channelNameMatchesPattern($normalized, $pattern)) {
                continue;
            }
            $parameters = $this->extractAuthParameters($pattern, $normalized, $callback);
            $handler = $this->normalizeChannelHandlerToCallable($callback);
            $result = $handler($user, ...$parameters);
            if ($result) {
                if (strpos($channel, 'presence-') === 0 && !is_array($result)) {
                    return true;
                }
                return $result;
            }
        }
        return false;
    }
}
