<?php

return [
    'herald' => [
        // The webhook's signing secret: `whsec_...` as Herald generated it, or the key you chose.
        'webhook_secret' => env('HERALD_WEBHOOK_SECRET'),
    ],
];
