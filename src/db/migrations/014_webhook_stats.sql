-- The webhook page's charts (GET /v1/webhooks/{id}/stats) read a webhook's deliveries by creation
-- time and its attempts by start time, over at most a week.
CREATE INDEX deliveries_webhook_created ON deliveries (webhook_id, created_at);
CREATE INDEX attempts_webhook_started ON attempts (webhook_id, started_at);
