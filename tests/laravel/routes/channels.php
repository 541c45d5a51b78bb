<?php

use Illuminate\Support\Facades\Broadcast;

// private-user.{id}: only that user.
Broadcast::channel('user.{id}', function ($user, $id) {
    return (string) $user->id === (string) $id;
});

// presence-chat.{room}: anyone logged in; the members' info.
Broadcast::channel('chat.{room}', function ($user, $room) {
    return ['id' => $user->id, 'name' => $user->name];
});
