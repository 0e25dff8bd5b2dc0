// Many events at once: POST /v1/events/batch (up to 500 in one transaction, one result per event,
// all or none), and single publishes under way together, which share statements.
import { apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { admin, receiver, stack, useStack } from '../support/suite';

// A small single-event limit, so an oversized event inside a batch is cheap to build.
useStack({ env: { HERALD_MAX_PAYLOAD_BYTES: '4096' } });

const eventRows = async () => Number((await stack.pool.query('SELECT count(*) AS n FROM events')).rows[0].n);

test('a batch publishes every event in order, one result each: accepted, or duplicate for an id seen before or earlier in the batch', async () => {
  const { token } = await appWithKey(admin, { entityTypes: ['person'], scopes: ['batch'] });
  const webhook = await createWebhook(apiClient(stack.api.url, token), { url: receiver.url('/batch') });
  const first = await admin.post('/v1/events', personEvent('b-0', { id: 'batch-seen', scopes: ['batch'] }));
  expect(first.status).toBe(202);

  const res = await admin.post('/v1/events/batch', {
    events: [
      personEvent('b-1', { id: 'batch-one', scopes: ['batch'] }),
      personEvent('b-2', { scopes: ['batch'] }),
      personEvent('b-1', { id: 'batch-one', scopes: ['batch'] }),
      personEvent('b-0', { id: 'batch-seen', scopes: ['batch'] }),
      personEvent('b-3', { scopes: ['elsewhere'] }),
    ],
  });
  expect(res.status).toBe(202);
  const results = res.body.data as {
    index: number;
    id: string;
    status: string;
    deliveries: { id: string; webhookId: string }[];
  }[];
  expect(results.map((r) => [r.index, r.status])).toEqual([
    [0, 'accepted'],
    [1, 'accepted'],
    [2, 'duplicate'],
    [3, 'duplicate'],
    [4, 'accepted'],
  ]);
  expect(results[0].id).toBe('batch-one');
  expect(results[1].id).toMatch(/^evt_/);
  // A duplicate answers with the first publish's deliveries; an event no webhook may see has none.
  expect(results[2].deliveries).toEqual(results[0].deliveries);
  expect(results[3].deliveries).toEqual(first.body.deliveries);
  expect(results[4].deliveries).toEqual([]);
  for (const r of results.slice(0, 2)) expect(r.deliveries.map((d) => d.webhookId)).toEqual([webhook.id]);

  // Delivered like any event: once each.
  await eventually(async () => receiver.on('/batch').length >= 3);
  const ids = receiver.on('/batch').map((r) => JSON.parse(r.body).id);
  expect(ids.sort()).toEqual(['batch-one', 'batch-seen', results[1].id].sort());

  // Delivered since, a repeat still answers what the first publish did: the status each delivery
  // was created with, not the one it has now.
  expect(first.body.deliveries.map((d: { status: string }) => d.status)).toEqual(['pending']);
  await eventually(
    async () =>
      (await admin.get(`/v1/deliveries/${first.body.deliveries[0].id}`)).body.status === 'succeeded',
  );
  const seenAgain = personEvent('b-0', { id: 'batch-seen', scopes: ['batch'] });
  expect((await admin.post('/v1/events', seenAgain)).body).toEqual(first.body);
  const batchAgain = await admin.post('/v1/events/batch', { events: [seenAgain] });
  expect(batchAgain.body.data).toEqual([{ index: 0, status: 'duplicate', ...first.body }]);
});

test('one refused event refuses the whole batch with its index named, and nothing is written', async () => {
  const before = await eventRows();
  const res = await admin.post('/v1/events/batch', {
    events: [personEvent('v-1'), { ...personEvent('v-2'), type: 'person.exploded' }, personEvent('v-3')],
  });
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.events.1.type']);

  const tooLarge = await admin.post('/v1/events/batch', {
    events: [personEvent('v-4'), personEvent('v-5', { data: { blob: 'x'.repeat(5000) } })],
  });
  expect(tooLarge.status).toBe(422);
  expect(tooLarge.body.errors).toEqual([{ path: 'body.events.1', message: 'larger than 4096 bytes' }]);

  // A rule the schema cannot state (the type names the entity's type) is a 422, by index too.
  const mismatched = await admin.post('/v1/events/batch', {
    events: [personEvent('v-6'), { ...personEvent('v-7'), type: 'team.updated' }],
  });
  expect(mismatched.status).toBe(422);
  expect(mismatched.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.events.1.type']);

  const tooMany = await admin.post('/v1/events/batch', {
    events: Array.from({ length: 501 }, (_, i) => personEvent(`v-many-${i}`)),
  });
  expect(tooMany.status).toBe(400);
  expect(tooMany.body.errors[0].path).toBe('body.events');

  const empty = await admin.post('/v1/events/batch', { events: [] });
  expect(empty.status).toBe(400);
  expect(await eventRows()).toBe(before);
});

test('a batch of 500 fits its own body limit, above the single-event one', async () => {
  const before = await eventRows();
  const events = Array.from({ length: 500 }, (_, i) => personEvent(`many-${i}`, { scopes: ['nobody'] }));
  expect(Buffer.byteLength(JSON.stringify({ events }))).toBeGreaterThan(4096);
  const res = await admin.post('/v1/events/batch', { events });
  expect(res.status).toBe(202);
  expect(res.body.data).toHaveLength(500);
  expect(res.body.data.every((r: { status: string }) => r.status === 'accepted')).toBe(true);
  expect(await eventRows()).toBe(before + 500);
});

test("a batch's events take the data and scopes they leave out from their entity, delete it, and apply one entity's events in order", async () => {
  const entity = async (id: string) =>
    (
      await stack.pool.query(
        'SELECT data, scopes, version, deleted_at FROM entities WHERE type = $1 AND id = $2',
        ['person', id],
      )
    ).rows[0];
  const eventOf = async (id: string) =>
    (await stack.pool.query('SELECT data, scopes FROM events WHERE id = $1', [id])).rows[0];
  for (const id of ['keep-1', 'gone-1']) {
    expect(
      (await admin.post('/v1/events', personEvent(id, { data: { name: id }, scopes: ['s1'] }))).status,
    ).toBe(202);
  }

  // Each entity once: the set-wide path.
  const distinct = await admin.post('/v1/events/batch', {
    events: [
      { type: 'person.updated', entity: { type: 'person', id: 'keep-1' }, id: 'keep-1-again' },
      { type: 'person.deleted', entity: { type: 'person', id: 'gone-1' }, id: 'gone-1-deleted' },
      {
        type: 'person.created',
        entity: { type: 'person', id: 'new-1' },
        id: 'new-1-created',
        data: { n: 1 },
      },
    ],
  });
  expect(distinct.status).toBe(202);
  expect(await eventOf('keep-1-again')).toEqual({ data: { name: 'keep-1' }, scopes: ['s1'] });
  expect(await eventOf('gone-1-deleted')).toEqual({ data: { name: 'gone-1' }, scopes: ['s1'] });
  expect(await entity('keep-1')).toMatchObject({ version: 1, deleted_at: null });
  expect((await entity('gone-1')).deleted_at).not.toBeNull();
  expect(await entity('new-1')).toMatchObject({ data: { n: 1 }, scopes: [], version: 1 });

  // One entity three times: event by event, each seeing the one before.
  const repeated = await admin.post('/v1/events/batch', {
    events: [
      {
        type: 'person.updated',
        entity: { type: 'person', id: 'new-1' },
        id: 'new-1-a',
        data: { n: 2 },
        scopes: ['s2'],
      },
      { type: 'person.updated', entity: { type: 'person', id: 'new-1' }, id: 'new-1-b' },
      { type: 'person.updated', entity: { type: 'person', id: 'new-1' }, id: 'new-1-c', data: { n: 3 } },
    ],
  });
  expect(repeated.body.data.map((r: { status: string }) => r.status)).toEqual([
    'accepted',
    'accepted',
    'accepted',
  ]);
  expect(await eventOf('new-1-b')).toEqual({ data: { n: 2 }, scopes: ['s2'] });
  expect(await eventOf('new-1-c')).toEqual({ data: { n: 3 }, scopes: ['s2'] });
  expect(await entity('new-1')).toMatchObject({ data: { n: 3 }, scopes: ['s2'], version: 3 });
});

test('single publishes under way together share statements, and each is answered with its own event', async () => {
  const { token } = await appWithKey(admin, { entityTypes: ['person'], scopes: ['queue'] });
  const webhook = await createWebhook(apiClient(stack.api.url, token), { url: receiver.url('/queue') });
  const events = [
    ...Array.from({ length: 40 }, (_, i) =>
      personEvent(`queue-${i}`, { id: `queue-${i}`, scopes: ['queue'], data: { n: i } }),
    ),
    // An id again, and one entity three times.
    personEvent('queue-0', { id: 'queue-0', scopes: ['queue'], data: { n: 0 } }),
    ...[1, 2, 3].map((n) =>
      personEvent('queue-same', { id: `queue-same-${n}`, scopes: ['queue'], data: { n } }),
    ),
  ];
  const statements = jest.spyOn(stack.api.context.pool, 'query');
  const answers = await Promise.all(events.map((e) => admin.post('/v1/events', e)));
  const publishStatements = statements.mock.calls.filter(([q]) =>
    ['publish_event', 'publish_batch'].includes((q as { name?: string }).name ?? ''),
  ).length;
  statements.mockRestore();

  expect(answers.map((a) => a.status)).toEqual(events.map(() => 202));
  expect(answers.map((a) => a.body.id)).toEqual(events.map((e) => (e as { id?: string }).id));
  for (const a of answers.slice(0, 40)) {
    expect(a.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).toEqual([webhook.id]);
  }
  // The repeat answers with the first publish's deliveries (as they stand by then).
  const ids = (a: (typeof answers)[number]) => a.body.deliveries.map((d: { id: string }) => d.id);
  expect(ids(answers[40])).toEqual(ids(answers[0]));
  expect(new Set(answers.flatMap((a) => a.body.deliveries.map((d: { id: string }) => d.id))).size).toBe(43);
  const { rows } = await stack.pool.query(
    "SELECT (SELECT count(*) FROM events WHERE id LIKE 'queue-%')::int AS events, version FROM entities WHERE type = 'person' AND id = 'queue-same'",
  );
  expect(rows[0]).toEqual({ events: 43, version: 3 });
  expect(publishStatements).toBeLessThan(events.length / 2);
});
