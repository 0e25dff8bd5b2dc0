<?php

// Laravel's skeleton public/index.php; bootstrap/autoload.php stands in for vendor/autoload.php.
//   HERALD_WEBHOOK_SECRET=whsec_... php -S 127.0.0.1:3000 public/index.php

use Illuminate\Contracts\Http\Kernel;
use Illuminate\Http\Request;

define('LARAVEL_START', microtime(true));

require __DIR__.'/../bootstrap/autoload.php';

$app = require_once __DIR__.'/../bootstrap/app.php';

$kernel = $app->make(Kernel::class);

$response = $kernel->handle($request = Request::capture())->send();

$kernel->terminate($request, $response);
