<?php

return [
    'redis' => [
        'client' => 'phpredis',
        // Laravel's default prefix for an app named "laravel".
        'options' => ['prefix' => 'laravel_database_'],
        'default' => [
            'host' => env('REDIS_HOST', '127.0.0.1'),
            'port' => env('REDIS_PORT', '6379'),
            'database' => 0,
        ],
    ],
];
