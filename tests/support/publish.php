<?php
// Publishes through clients/php/Comet.php, as a site's PHP code would.
//
//   php publish.php --port P [--host H] [--prefix comet:] --channel C --file F
//       publishes the bytes of file F (binary-safe) once
//   php publish.php --port P [--host H] [--prefix comet:] --channel C --file F --durable
//       the same with Comet::publishDurable; prints the message id
//   php publish.php --port P --channel C --burst N
//       publishes {"seq":0} ... {"seq":N-1} in order, one PUBLISH each
//   php publish.php --cluster H:P[,H:P...] --channel C --file F [--durable]
//       the same through a RedisCluster connection (no --port)
//
// Exit status 0 on success; errors go to stderr.
require __DIR__ . '/../../clients/php/Comet.php';

$opt = getopt('', ['host:', 'port:', 'cluster:', 'prefix:', 'channel:', 'file:', 'burst:',
    'durable']);
if (!(isset($opt['port']) || isset($opt['cluster'])) || !isset($opt['channel']) || (!isset($opt['file']) && !isset($opt['burst']))) {
    fwrite(STDERR, "usage: publish.php (--port P | --cluster H:P,...) --channel C (--file F | --burst N)\n");
    exit(2);
}
if (isset($opt['prefix'])) {
    Comet::$prefix = $opt['prefix'];
}
try {
    if (isset($opt['cluster'])) {
        $redis = new RedisCluster(null, explode(',', $opt['cluster']), 5.0, 5.0);
    } else {
        $redis = new Redis();
        if (!$redis->connect($opt['host'] ?? '127.0.0.1', (int)$opt['port'], 5.0)) {
            throw new RuntimeException('cannot connect to Redis');
        }
    }
    if (isset($opt['file'])) {
        $payload = file_get_contents($opt['file']);
        if ($payload === false) {
            throw new RuntimeException('cannot read ' . $opt['file']);
        }
        if (isset($opt['durable'])) {
            echo Comet::publishDurable($redis, $opt['channel'], $payload), "\n";
        } else {
            Comet::publish($redis, $opt['channel'], $payload);
        }
    } else {
        $n = (int)$opt['burst'];
        for ($i = 0; $i < $n; $i++) {
            Comet::publish($redis, $opt['channel'], sprintf('{"seq":%d}', $i));
        }
    }
} catch (Throwable $e) {
    fwrite(STDERR, get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(1);
}
exit(0);
