<?php

namespace App\Providers;

use App\Events\InvoicePaid;
use App\Events\OrderShipped;
use Illuminate\Auth\GenericUser;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\Facades\Broadcast;
use Illuminate\Support\Facades\Route;
use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    public function boot()
    {
        // A user per request from X-Test-User (the page sends it with Echo's
        // auth headers), so that the test needs no login form.
        Auth::viaRequest('test-header', function (Request $request) {
            $id = $request->header('X-Test-User');
            return $id === null ? null : new GenericUser(['id' => $id, 'name' => 'User ' . $id]);
        });

        Broadcast::routes();
        require base_path('routes/channels.php');

        // Fires an event: event=shipped (App\Events\OrderShipped) or
        // event=paid (broadcastAs 'invoice.paid'), on channel (a public
        // name, private-... or presence-...), to everyone or, with
        // others=1, toOthers().
        Route::post('/fire', function (Request $request) {
            $class = $request->input('event') === 'paid' ? InvoicePaid::class : OrderShipped::class;
            $pending = broadcast(new $class((string) $request->input('channel'), (string) $request->input('text')));
            if ($request->input('others')) {
                $pending->toOthers();
            }
            return ['fired' => $class];
        });
    }
}
