// GET /v1/events: the latest events for the publishing side (admin, publisher keys), newest
// first, each with its fan-out, by type or by entity, keyset-paginated.
import { apiClient } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { admin, receiver, stack, useStack } from '../support/suite';

useStack();

test('lists events newest first with their fan-out, by type and by entity, page by page', async () => {
  const { token } = await appWithKey(admin, { entityTypes: ['person'], scopes: ['org:1'] });
  const customer = apiClient(stack.api.url, token);
  const webhook = await createWebhook(customer, { url: receiver.url('/list') });
  const ids: string[] = [];
  for (const [i, extra] of [{}, { type: 'person.created' }, {}].entries()) {
    // A publisher's own ids, which do not sort by time: the list is by creation time.
    const res = await admin.post('/v1/events', personEvent(`list-${i}`, { id: `z-${3 - i}`, ...extra }));
    expect(res.status).toBe(202);
    ids.push(res.body.id);
  }

  const all = await admin.get('/v1/events?limit=100');
  expect(all.status).toBe(200);
  const mine = all.body.data.filter((e: { id: string }) => ids.includes(e.id));
  expect(mine.map((e: { id: string }) => e.id)).toEqual([...ids].reverse());
  expect(mine[0]).toMatchObject({
    type: 'person.updated',
    entity: { type: 'person', id: 'list-2' },
    deliveries: [{ webhookId: webhook.id, status: expect.any(String), id: expect.any(String) }],
  });

  const created = await admin.get('/v1/events?type=person.created');
  expect(created.body.data.map((e: { id: string }) => e.id)).toEqual([ids[1]]);
  const entity = await admin.get('/v1/events?entityType=person&entityId=list-0');
  expect(entity.body.data.map((e: { id: string }) => e.id)).toEqual([ids[0]]);

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: { data: { id: string }[]; nextCursor: string | null } } =
      await admin.get(
        `/v1/events?entityType=person&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeLessThanOrEqual(1);
    seen.push(...res.body.data.map((e) => e.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
  expect(new Set(seen).size).toBe(seen.length);

  // A publisher key lists; an application key (even with every scope) does not.
  const publisher = await admin.post('/v1/publisher-keys', { name: 'lister', scopes: ['events:publish'] });
  const listed = await apiClient(stack.api.url, publisher.body.token).get('/v1/events?type=person.created');
  expect(listed.status).toBe(200);
  expect(listed.body.data.map((e: { id: string }) => e.id)).toEqual([ids[1]]);
  expect((await customer.get('/v1/events')).status).toBe(403);
});
