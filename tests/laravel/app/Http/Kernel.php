<?php

namespace App\Http;

use Illuminate\Foundation\Http\Kernel as HttpKernel;

// No sessions, cookies or CSRF: the test's users log in with a header
// (AppServiceProvider's guard).
class Kernel extends HttpKernel
{
    protected $middleware = [];

    protected $middlewareGroups = ['web' => []];
}
