import { apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { admin, receiver, stack, useStack } from '../support/suite';

useStack();

test('health and readiness answer once Postgres and Temporal are reachable', async () => {
  const open = apiClient(stack.api.url);
  expect((await open.get('/healthz')).status).toBe(200);
  const ready = await open.get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body.checks).toEqual({ postgres: 'ok', temporal: 'ok' });
});

test('a published event goes through a Temporal workflow whose activity writes the attempt to Postgres', async () => {
  const { token } = await appWithKey(admin);
  const key = apiClient(stack.api.url, token);
  const webhook = await createWebhook(key, { url: receiver.url('/smoke') });

  const published = await admin.post('/v1/events', personEvent('42'));
  expect(published.status).toBe(202);
  expect(published.body.deliveries).toHaveLength(1);
  const deliveryId = published.body.deliveries[0].id;

  await receiver.waitFor(1);
  expect(JSON.parse(receiver.requests[0].body)).toMatchObject({
    type: 'person.updated',
    entity: { type: 'person', id: '42' },
  });

  // The row the activity wrote, read straight from Postgres.
  const row = await eventually(async () => {
    const { rows } = await stack.pool.query(
      'SELECT outcome, response_status FROM attempts WHERE delivery_id = $1',
      [deliveryId],
    );
    return rows[0];
  });
  expect(row).toEqual({ outcome: 'succeeded', response_status: 200 });

  // And the workflow that carried it, read from the Temporal server.
  const handle = stack.api.context.temporal.workflow.getHandle(`delivery:${deliveryId}`);
  expect(await handle.result()).toBe('succeeded');
  expect((await handle.describe()).taskQueue).toBe(stack.config.temporal.taskQueue);
  expect(webhook.id).toMatch(/^wh_/);
});
