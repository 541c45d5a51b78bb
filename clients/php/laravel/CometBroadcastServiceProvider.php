<?php
// Registers the 'comet' broadcast driver. config/broadcasting.php:
//   'comet' => [
//       'driver' => 'comet',
//       'connection' => 'default',              // a connection of config/database.php 'redis'
//       'secret' => env('COMET_TOKEN_SECRET'),  // one of the gateway's --token-secret values
//       'ttl' => 3600,                          // seconds a token is valid
//   ],
// and BROADCAST_DRIVER=comet in .env.

namespace CometGateway\Laravel;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Support\ServiceProvider;

require_once __DIR__ . '/CometBroadcaster.php';

class CometBroadcastServiceProvider extends ServiceProvider
{
    public function boot()
    {
        $this->app->make(BroadcastManager::class)->extend('comet', function ($app, array $config) {
            return new CometBroadcaster(
                $app->make('redis'),
                $config['connection'] ?? null,
                $config['prefix'] ?? '',
                (string) ($config['secret'] ?? ''),
                (int) ($config['ttl'] ?? 3600)
            );
        });
    }
}
