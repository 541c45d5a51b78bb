<?php
// A steady publish load for the fault tests (see php_publish_load in php.hpp).
//
//   php load.php --port P --channels d0,d1,p0,p1 --rate R --seconds S
//
// Channels named d* are published with Comet::publishDurable, others with
// Comet::publish. Pacing is by the clock (a message is due every 1/R s), so
// a stall (Redis down) is followed by a catch-up rather than a lower total.
// A failed publish is logged as failed and the connection made again: the
// site's PHP would see the same exception.
//
// With --sentinel PORT --master NAME the master is asked of that sentinel at
// every (re)connect, and a durable publish must reach one replica (WAIT 1,
// 500 ms)
// to count as published: only then does it survive a failover.
//
// With --cluster H:P[,H:P...] (no --port) it publishes through phpredis'
// RedisCluster, and a durable publish must likewise reach one replica of
// the channel's master (WAIT 1, 500 ms, on that master).
require __DIR__ . '/../../clients/php/Comet.php';

$opt = getopt('', ['host:', 'port:', 'channels:', 'rate:', 'seconds:', 'sentinel:', 'master:',
    'cluster:']);
$host = $opt['host'] ?? '127.0.0.1';
$port = (int)($opt['port'] ?? 0);
$cluster = isset($opt['cluster']) ? explode(',', $opt['cluster']) : null;
$sentinel = isset($opt['sentinel']) ? (int)$opt['sentinel'] : 0;
$master = $opt['master'] ?? 'm';
$channels = explode(',', $opt['channels']);
$rate = max(1, (int)$opt['rate']);
$seconds = (float)$opt['seconds'];
$total = (int)round($rate * $seconds);

function connect_redis(string $host, int $port)
{
    global $sentinel, $master, $cluster;
    try {
        if ($cluster !== null) {
            return new RedisCluster(null, $cluster, 1.0, 2.0);
        }
        if ($sentinel !== 0) {
            $s = new Redis();
            if (!$s->connect('127.0.0.1', $sentinel, 1.0)) {
                return null;
            }
            $addr = $s->rawCommand('SENTINEL', 'get-master-addr-by-name', $master);
            $s->close();
            if (!is_array($addr) || count($addr) !== 2) {
                return null;
            }
            [$host, $port] = [$addr[0], (int)$addr[1]];
        }
        $r = new Redis();
        if (!$r->connect($host, $port, 1.0)) {
            return null;
        }
        $r->setOption(Redis::OPT_READ_TIMEOUT, 2.0);
        return $r;
    } catch (Throwable $e) {
        return null;
    }
}

$redis = connect_redis($host, $port);
$count = array_fill_keys($channels, 0);
$start = microtime(true);
$out = fopen('php://stdout', 'w');
for ($i = 0; $i < $total; $i++) {
    $due = $start + $i / $rate;
    $wait = $due - microtime(true);
    if ($wait > 0) {
        usleep((int)($wait * 1e6));
    }
    $ch = $channels[$i % count($channels)];
    $k = ++$count[$ch];
    $payload = '{"n":' . $k . '}';
    try {
        if ($redis === null) {
            $redis = connect_redis($host, $port);
            if ($redis === null) {
                throw new RuntimeException('no connection');
            }
        }
        if ($ch[0] === 'd') {
            $id = Comet::publishDurable($redis, $ch, $payload);
            if ($sentinel !== 0 && $redis->rawCommand('WAIT', '1', '500') < 1) {
                throw new RuntimeException('not replicated');
            }
            if ($cluster !== null &&
                $redis->rawCommand(Comet::$prefix . '{' . $ch . '}:stream', 'WAIT', '1', '500') < 1) {
                throw new RuntimeException('not replicated');
            }
            fwrite($out, "$ch $k ok $id\n");
        } else {
            Comet::publish($redis, $ch, $payload);
            fwrite($out, "$ch $k ok -\n");
        }
    } catch (Throwable $e) {
        fwrite($out, "$ch $k fail\n");
        $redis = null;
    }
}
fclose($out);
exit(0);
