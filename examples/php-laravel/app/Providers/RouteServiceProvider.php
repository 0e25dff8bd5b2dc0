<?php

namespace App\Providers;

use Illuminate\Foundation\Support\Providers\RouteServiceProvider as ServiceProvider;
use Illuminate\Support\Facades\Route;

class RouteServiceProvider extends ServiceProvider
{
    public function boot()
    {
        $this->routes(function () {
            // The skeleton prefixes these routes with /api; this app serves /webhook as the
            // guide's other examples do.
            Route::middleware('api')->group(base_path('routes/api.php'));
        });
    }
}
