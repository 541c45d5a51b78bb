<?php

return [
    'name' => 'laravel',
    'env' => 'testing',
    'debug' => false,
    'providers' => [
        Illuminate\Auth\AuthServiceProvider::class,
        Illuminate\Filesystem\FilesystemServiceProvider::class,
        Illuminate\Broadcasting\BroadcastServiceProvider::class,
        Illuminate\Bus\BusServiceProvider::class,
        Illuminate\Redis\RedisServiceProvider::class,
        CometGateway\Laravel\CometBroadcastServiceProvider::class,
        App\Providers\AppServiceProvider::class,
    ],
];
