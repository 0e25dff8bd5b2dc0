<?php

namespace App\Exceptions;

use Illuminate\Foundation\Exceptions\Handler as ExceptionHandler;
use Throwable;

class Handler extends ExceptionHandler
{
    // An API without views: every error is answered as JSON.
    protected function shouldReturnJson($request, Throwable $e)
    {
        return true;
    }
}
