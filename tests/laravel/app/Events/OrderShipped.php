<?php

namespace App\Events;

use Illuminate\Broadcasting\Channel;
use Illuminate\Broadcasting\InteractsWithSockets;
use Illuminate\Broadcasting\PresenceChannel;
use Illuminate\Broadcasting\PrivateChannel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;

class OrderShipped implements ShouldBroadcastNow
{
    use InteractsWithSockets;

    public $text;

    protected $channel;

    public function __construct(string $channel, string $text)
    {
        $this->channel = $channel;
        $this->text = $text;
    }

    public function broadcastOn()
    {
        if (strpos($this->channel, 'private-') === 0) {
            return new PrivateChannel(substr($this->channel, strlen('private-')));
        }
        if (strpos($this->channel, 'presence-') === 0) {
            return new PresenceChannel(substr($this->channel, strlen('presence-')));
        }
        return new Channel($this->channel);
    }
}
