<?php

use Illuminate\Support\Facades\Broadcast;

// private-user.{id}: only that user.
Broadcast::channel('user.{id}', function ($user, $id) {
    return (string) $user->id === (string) $id;
});

// presence-chat.{room}: anyone logged in but user 9; the members' info.
Broadcast::channel('chat.{room}', function ($user, $room) {
    if ((string) $user->id === '9') {
        return false;
    }
    return ['id' => $user->id, 'name' => $user->name];
});
