<?php

namespace App\Events;

class InvoicePaid extends OrderShipped
{
    public function broadcastAs()
    {
        return 'invoice.paid';
    }
}
