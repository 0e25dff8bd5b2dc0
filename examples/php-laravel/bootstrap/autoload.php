<?php

// What composer's vendor/autoload.php does in a composer-installed Laravel app, with Debian's
// packages instead (apt-get install php-cli php-laravel-framework): the framework from
// /usr/share/php, and this app's own classes (App\ is app/, PSR-4).

require_once 'Illuminate/autoload.php';

spl_autoload_register(function (string $class): void {
    if (str_starts_with($class, 'App\\')) {
        $file = __DIR__.'/../app/'.str_replace('\\', '/', substr($class, strlen('App\\'))).'.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
