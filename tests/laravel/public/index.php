<?php
// The test app's front controller: a Laravel 8 application on Debian's
// php-laravel-framework (Illuminate under /usr/share/php), with the
// comet-gateway glue from clients/php/laravel.

require '/usr/share/php/Illuminate/autoload.php';

// What composer's autoload would map: App\ to app/, the glue's namespace to
// clients/php/laravel (COMET_CLIENTS_PHP, set by the test).
spl_autoload_register(function ($class) {
    $roots = [
        'App\\' => dirname(__DIR__) . '/app/',
        'CometGateway\\Laravel\\' => getenv('COMET_CLIENTS_PHP') . '/laravel/',
    ];
    foreach ($roots as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});

$app = new Illuminate\Foundation\Application(dirname(__DIR__));
$app->singleton(Illuminate\Contracts\Http\Kernel::class, App\Http\Kernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, Illuminate\Foundation\Exceptions\Handler::class);

$kernel = $app->make(Illuminate\Contracts\Http\Kernel::class);
$response = $kernel->handle($request = Illuminate\Http\Request::capture());
$response->send();
$kernel->terminate($request, $response);
