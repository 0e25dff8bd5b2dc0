<?php

namespace App\Http\Controllers;

use Illuminate\Http\Request;
use Illuminate\Routing\Controller;
use Illuminate\Support\Facades\Log;
use RuntimeException;

class HeraldWebhookController extends Controller
{
    /** How far webhook-timestamp may be from this server's clock, in either direction. */
    private const TOLERANCE_SECONDS = 5 * 60;

    public function handle(Request $request)
    {
        // Verify the exact bytes Herald signed: getContent(), never all(), input() or json().
        $body = $request->getContent();
        $problem = $this->verify($request, $body);
        if ($problem !== null) {
            Log::warning("rejected: {$problem}");
            return response('invalid signature', 401);
        }
        $event = json_decode($body, true);
        if (!is_array($event)) {
            return response('not JSON', 400);
        }
        // At least once: the same webhook-id can arrive again. Skip ids you have already handled,
        // and answer at once (dispatch a job for the work): anything but a 2xx within 15 s is retried.
        Log::info("{$event['type']} {$event['id']} (webhook-id {$request->header('webhook-id')})");
        return response()->noContent();
    }

    /** Standard Webhooks verification: null when Herald signed this request, otherwise why not. */
    private function verify(Request $request, string $body): ?string
    {
        $id = (string) $request->header('webhook-id');
        $timestamp = (string) $request->header('webhook-timestamp');
        $signatures = (string) $request->header('webhook-signature');
        if ($id === '' || $timestamp === '' || $signatures === '') {
            return 'a webhook-id, webhook-timestamp or webhook-signature header is missing';
        }
        if (!ctype_digit($timestamp) || abs(time() - (int) $timestamp) > self::TOLERANCE_SECONDS) {
            return 'the timestamp is too old or too new';
        }
        $expected = base64_encode(hash_hmac('sha256', "{$id}.{$timestamp}.{$body}", $this->key(), true));
        // Two signatures, space-separated, while a rotated-out secret still signs: any v1 one may match.
        foreach (explode(' ', $signatures) as $signature) {
            // hash_equals compares in constant time.
            if (str_starts_with($signature, 'v1,') && hash_equals($expected, substr($signature, 3))) {
                return null;
            }
        }
        return 'no matching signature';
    }

    /** The HMAC key bytes of the webhook's secret. */
    private function key(): string
    {
        $secret = (string) config('services.herald.webhook_secret');
        if ($secret === '') {
            throw new RuntimeException('Set HERALD_WEBHOOK_SECRET to the webhook signing secret.');
        }
        // A generated secret is `whsec_` + base64 key bytes; a key you chose yourself is used as its UTF-8 bytes.
        if (!str_starts_with($secret, 'whsec_')) {
            return $secret;
        }
        $key = base64_decode(substr($secret, strlen('whsec_')), true);
        if ($key === false) {
            throw new RuntimeException('HERALD_WEBHOOK_SECRET starts with whsec_ but is not valid base64 after it.');
        }
        return $key;
    }
}
