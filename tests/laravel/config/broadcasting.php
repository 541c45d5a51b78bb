<?php

return [
    'default' => env('BROADCAST_DRIVER', 'comet'),
    'connections' => [
        'comet' => [
            'driver' => 'comet',
            'connection' => 'default',
            'secret' => env('COMET_TOKEN_SECRET'),
            'ttl' => (int) env('COMET_TOKEN_TTL', 3600),
        ],
        'redis' => ['driver' => 'redis', 'connection' => 'default'],
    ],
];
