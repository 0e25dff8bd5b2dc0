// The webhook page's charts: GET /v1/webhooks/{id}/stats counts a webhook's deliveries by outcome
// and its attempts' latency per bucket, after real deliveries to a real receiver.
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { admin, receiver, stack, useStack } from '../support/suite';

let key: ApiClient;
const scope = 'stats';

// Delays up to a minute, so a 503 with Retry-After keeps its delivery retrying through the test.
useStack({ env: { HERALD_RETRY_MAX_INTERVAL_MS: '60000' } });
beforeAll(async () => {
  key = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] })).token,
  );
});

const SLOW_MS = 80;

test('counts deliveries by outcome and the latency of attempts, per bucket of the window', async () => {
  receiver.reply((r) => {
    if (r.body.includes('"st-fail"')) return { status: 500 };
    if (r.body.includes('"st-retry"')) return { status: 503, headers: { 'retry-after': '60' } };
    return { delayMs: SLOW_MS };
  });
  const webhook = await createWebhook(key, { url: receiver.url('/stats') });
  const status = async (deliveryId: string) => (await key.get(`/v1/deliveries/${deliveryId}`)).body.status;
  const publish = async (id: string) =>
    (await admin.post('/v1/events', personEvent(id, { scopes: [scope] }))).body.deliveries[0].id as string;

  for (const id of ['st-1', 'st-2', 'st-3']) {
    const delivery = await publish(id);
    await eventually(async () => (await status(delivery)) === 'succeeded');
  }
  const failing = await publish('st-fail');
  await eventually(async () => (await status(failing)) === 'failed', 30_000);
  // No success since its first attempt: the failure disabled the webhook.
  expect((await key.post(`/v1/webhooks/${webhook.id}/resume`)).status).toBe(200);
  const retrying = await publish('st-retry');
  await eventually(async () => (await status(retrying)) === 'retrying');
  expect((await key.post(`/v1/webhooks/${webhook.id}/pause`)).status).toBe(200);
  await publish('st-held-1');
  await publish('st-held-2');

  const windows = { hour: [60, 60], day: [24, 3_600], week: [28, 21_600] } as const;
  for (const [window, [buckets, bucketSeconds]] of Object.entries(windows)) {
    const asked = Date.now();
    const res = await key.get(`/v1/webhooks/${webhook.id}/stats?window=${window}`);
    const answered = Date.now();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ webhookId: webhook.id, window, bucketSeconds });
    const rows = res.body.buckets as Record<string, number | null | string>[];
    expect(rows).toHaveLength(buckets);
    // Consecutive, oldest first, the last one holding the moment the server answered (between the
    // request and its answer, which can straddle a bucket's end).
    const starts = rows.map((b) => Date.parse(b.start as string));
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBe(bucketSeconds * 1000);
    expect(answered).toBeGreaterThanOrEqual(starts.at(-1)!);
    expect(asked).toBeLessThan(starts.at(-1)! + bucketSeconds * 1000);

    const sum = (field: string) => rows.reduce((n, b) => n + (b[field] as number), 0);
    expect({
      succeeded: sum('succeeded'),
      failed: sum('failed'),
      retrying: sum('retrying'),
      held: sum('held'),
      // 3 successes, 4 attempts of the failing one (HERALD_RETRY_MAX_ATTEMPTS), 1 of the retrying one.
      attempts: sum('attempts'),
    }).toEqual({ succeeded: 3, failed: 1, retrying: 1, held: 2, attempts: 8 });
    const measured = rows.filter((b) => (b.attempts as number) > 0);
    for (const b of measured) expect(b.p50Ms as number).toBeLessThanOrEqual(b.p95Ms as number);
    for (const b of rows.filter((b) => b.attempts === 0)) expect([b.p50Ms, b.p95Ms]).toEqual([null, null]);
    // The slow answers (SLOW_MS each) pull the 95th percentile of their bucket up.
    expect(Math.max(...measured.map((b) => b.p95Ms as number))).toBeGreaterThanOrEqual(SLOW_MS / 2);
  }

  expect((await key.get(`/v1/webhooks/${webhook.id}/stats?window=year`)).status).toBe(400);
  // Without a window: the day.
  expect((await key.get(`/v1/webhooks/${webhook.id}/stats`)).body.buckets).toHaveLength(24);
});
