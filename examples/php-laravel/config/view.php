<?php

return [
    // This app renders no views; the response() helper needs the view factory all the same.
    'paths' => [resource_path('views')],
    'compiled' => storage_path('framework/views'),
];
