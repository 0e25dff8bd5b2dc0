<?php

use App\Http\Controllers\HeraldWebhookController;
use Illuminate\Support\Facades\Route;

Route::post('/webhook', [HeraldWebhookController::class, 'handle']);
