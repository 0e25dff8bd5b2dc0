// The admin panel in a real, headless Chromium against the real stack (API, worker, Temporal,
// PostgreSQL), driven by clicks and typing. The steps run in order and share one page.
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { uiRouter } from '../../src/ui/serve';
import { expectAccessible, expectWorkflowLinksExist, launchChromium, panelPage } from '../support/browser';
import { type ApiClient, apiClient } from '../support/client';
import { type Receiver, type Reply, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

const root = path.resolve(__dirname, '../..');
// The README's screenshot is refreshed on request (HERALD_UPDATE_SCREENSHOTS=1), so a test run
// leaves the work tree clean; every run writes its own copy under test-results/.
const SCREENSHOT = process.env.HERALD_UPDATE_SCREENSHOTS
  ? path.join(root, 'docs/screenshots/delivery-log.png')
  : path.join(root, 'test-results/delivery-log.png');
/** Members seeded for the sync; the events the tests publish update two of them. */
const SYNC_ENTITIES = 200;

let stack: Stack;
let receiver: Receiver;
let admin: ApiClient;
let browser: Browser;
let page: Page;
let appId: string;
let webhookId: string;
let openedDelivery: string;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(path.join(root, 'ui/dist/index.html'))) {
    throw new Error('ui/dist is missing: run `npm run build:ui` (npm test builds it by itself)');
  }
  [stack, receiver, browser] = await Promise.all([
    // Retry delays up to a minute, so a receiver's Retry-After keeps a delivery retrying while it is looked at.
    startStack({ env: { HERALD_RETRY_MAX_INTERVAL_MS: '60000' } }),
    startReceiver(),
    launchChromium(),
  ]);
  receiver.reply(() => ({ headers: { 'content-type': 'application/json' }, body: '{"received":true}' }));
  admin = apiClient(stack.api.url, stack.adminToken);
  const app = await admin.post('/v1/applications', {
    name: 'Makerspace',
    access: { entityTypes: ['*'], scopes: ['org:1'] },
  });
  appId = app.body.id;
  // The persons to sync exist before any webhook does, so their "created" events go nowhere.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < SYNC_ENTITIES) {
        const id = `m-${String(next++).padStart(3, '0')}`;
        const res = await admin.put(`/v1/entities/person/${id}`, {
          data: { name: `Member ${id}` },
          scopes: ['org:1'],
        });
        if (res.status !== 200) throw new Error(`seed ${id}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }),
  );
  page = await panelPage(browser, stack.api.url, problems);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await receiver?.close();
});

const publish = async (id: string, data: Record<string, unknown>) => {
  const res = await admin.post('/v1/events', {
    type: 'person.updated',
    entity: { type: 'person', id },
    data,
    scopes: ['org:1'],
  });
  expect(res.status).toBe(202);
  return res.body as { id: string; deliveries: { id: string; status: string }[] };
};
const region = (name: string | RegExp) => page.getByRole('region', { name });
const logRow = (text: string) =>
  page.getByRole('list', { name: 'Deliveries, newest first' }).getByRole('link').filter({ hasText: text });

test('the API serves the built panel and leaves its own routes alone', async () => {
  const index = await fetch(`${stack.api.url}/`);
  expect(index.status).toBe(200);
  expect(index.headers.get('content-type')).toMatch(/^text\/html/);
  expect(index.headers.get('cache-control')).toBe('no-cache');
  expect(index.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
  const html = await index.text();
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
  const js = await fetch(`${stack.api.url}${asset}`);
  expect(js.status).toBe(200);
  expect(js.headers.get('cache-control')).toMatch(/max-age=31536000.*immutable/);
  expect((await fetch(`${stack.api.url}/webhooks/wh_x/deliveries/dlv_y`)).status).toBe(200);

  for (const missing of ['/v1/nothing-here', '/elsewhere', '/assets/nope.js']) {
    const res = await fetch(`${stack.api.url}${missing}`);
    expect([missing, res.status, res.headers.get('content-type')]).toEqual([
      missing,
      404,
      expect.stringMatching(/^application\/problem\+json/),
    ]);
  }
  expect((await fetch(`${stack.api.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${stack.api.url}/openapi.json`)).headers.get('content-type')).toMatch(/json/);

  // Without a build, the panel's paths say how to make one.
  const bare = express().use(uiRouter(path.join(root, 'ui/no-such-dist')));
  const server = bare.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/npm run build:ui/);
  } finally {
    server.close();
  }
});

test('signs in with the keyboard: a wrong token is refused beside the field, the admin token lands on the application', async () => {
  await page.goto(stack.api.url);
  const token = page.getByLabel('Admin token or application key');
  await token.waitFor();
  await expectAccessible(page, 'sign-in');
  await page.keyboard.press('Tab');
  await page.keyboard.type('not-a-token');
  await page.keyboard.press('Enter');
  await page
    .locator('#token-error')
    .getByText(/not valid/)
    .waitFor();
  expect(await token.getAttribute('aria-invalid')).toBe('true');
  await expectAccessible(page, 'sign-in refused');

  await token.fill(stack.adminToken);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  expect(await page.getByLabel('Application', { exact: true }).inputValue()).toBe(appId);
  await page.getByText('No webhooks yet.').waitFor();
  await expectAccessible(page, 'webhooks, none yet');
  // The token lives in this tab's sessionStorage only.
  expect(await page.evaluate('[localStorage.length, document.cookie]')).toEqual([0, '']);
});

test('a URL that is not a URL gets the API error next to the field', async () => {
  await page.getByRole('link', { name: 'New webhook' }).click();
  await page.getByLabel('Endpoint URL').fill('not a url');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.locator('#url-error').getByText('must be an absolute URL').waitFor();
  const url = page.getByLabel('Endpoint URL');
  expect(await url.getAttribute('aria-invalid')).toBe('true');
  expect(await url.getAttribute('aria-describedby')).toBe('url-error');
  expect(await page.evaluate('document.activeElement.id')).toBe('url');
  await expectAccessible(page, 'webhook form with an error');
});

test('creates a webhook to the receiver, shows its secret once, and Run Test shows the 200', async () => {
  await page.getByLabel('Endpoint URL').fill(receiver.url('/x'));
  await page.getByLabel('Label', { exact: true }).fill('Members sync');
  await page.getByRole('button', { name: 'Add header' }).click();
  await page.getByLabel('Header 1 name').fill('x-tenant');
  await page.getByLabel('Header 1 value').fill('makerspace');
  await page.getByRole('button', { name: 'Create webhook' }).click();

  await page.getByRole('heading', { name: 'Members sync', level: 1 }).waitFor();
  webhookId = /\/webhooks\/(wh_[^/]+)$/.exec(page.url())![1];
  const secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
  expect(secret).toMatch(/^whsec_/);
  await region('Deliveries and latency').locator('.chart canvas').first().waitFor();
  await expectAccessible(page, 'webhook page with its secret');
  await page.getByRole('button', { name: 'I have stored it' }).click();
  expect(await page.getByRole('textbox', { name: 'Signing secret' }).count()).toBe(0);

  await page.getByRole('button', { name: 'Run test' }).click();
  const result = region('Test result');
  await result.getByText('200', { exact: true }).waitFor();
  await result.getByText('"received": true').waitFor();
  const sent = receiver.on('/x').at(-1)!;
  expect(JSON.parse(sent.body).type).toBe('webhook.test');
  expect(sent.headers['x-tenant']).toBe('makerspace');
  expect(sent.headers['webhook-signature']).toMatch(/^v1,/);
  await expectAccessible(page, 'test result');

  // The test's delivery links to the test's own workflow, which exists.
  await result.getByRole('link', { name: 'open the delivery' }).click();
  const testDelivery = region(/Delivery webhook\.test/);
  const testWorkflow = testDelivery.getByRole('link', { name: 'Workflow in Temporal' });
  expect(await testWorkflow.getAttribute('href')).toMatch(
    new RegExp(`/namespaces/default/workflows/test%3A${webhookId}%3Aatt_`),
  );
  expect(await expectWorkflowLinksExist(page, stack.api.context.temporal)).toBeGreaterThanOrEqual(1);
  await testDelivery.getByRole('link', { name: 'Close' }).click();

  await page.getByRole('button', { name: 'Rotate secret' }).click();
  expect(await page.getByRole('textbox', { name: 'Signing secret' }).inputValue()).not.toBe(secret);
  await page.getByRole('button', { name: 'I have stored it' }).click();
});

test('an event published through the API appears in the live log; it opens to its request and response; redeliver', async () => {
  await page
    .getByRole('status')
    .getByText(/^\W*Live$/)
    .waitFor();
  await publish('m-007', { name: 'Ada Lovelace', role: 'member' });
  const row = logRow('person.updated');
  await row.getByText('succeeded').waitFor();
  await row.getByText(/HTTP 200 · \d+ ms · 1 attempt/).waitFor();
  await row.click();

  openedDelivery = /deliveries\/(dlv_[^/]+)$/.exec(page.url())![1];
  const detail = region(/Delivery person\.updated/);
  await detail.getByText('"name": "Ada Lovelace"').filter({ visible: true }).waitFor();
  await detail.getByText('webhook-signature', { exact: true }).waitFor();
  await detail.getByText('webhook-id', { exact: true }).first().waitFor();
  await detail.getByText('"received": true').waitFor();
  await expectAccessible(page, 'a delivery opened');
  expect(await detail.getByRole('link', { name: 'Workflow in Temporal' }).getAttribute('href')).toMatch(
    /\/namespaces\/default\/workflows\/delivery%3Adlv_/,
  );

  const before = receiver.on('/x').length;
  await detail.getByRole('button', { name: 'Redeliver' }).click();
  await detail.getByText(/Redelivered as dlv_/).waitFor();
  await receiver.waitFor(before + 1);
  await page.getByRole('list', { name: 'Deliveries, newest first' }).getByRole('link').nth(2).waitFor();
  await expectWorkflowLinksExist(page, stack.api.context.temporal);

  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

test('pause holds deliveries, resume sends them and the log shows it live', async () => {
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.locator('.heading').getByText('paused', { exact: true }).waitFor();
  const held = await publish('m-008', { name: 'Grace Hopper' });
  const deliveryId = held.deliveries[0].id;
  expect(held.deliveries[0].status).toBe('held');
  const heldRow = page
    .getByRole('list', { name: 'Deliveries, newest first' })
    .locator(`a[href$="${deliveryId}"]`);
  await heldRow.getByText('held').waitFor();
  await expectAccessible(page, 'a held delivery in the log');

  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await page.locator('.heading').getByText('active', { exact: true }).waitFor();
  await heldRow.getByText('succeeded').waitFor();

  await page.getByLabel('Status', { exact: true }).selectOption('failed');
  await page.getByText('No failed deliveries.').waitFor();
  await page.getByLabel('Status', { exact: true }).selectOption('succeeded');
  await logRow('webhook.test').waitFor();
  await page.getByLabel('Status', { exact: true }).selectOption('');
});

test('a delivery the receiver asks to retry later shows its answer and when the next attempt is due', async () => {
  receiver.reply(
    (req): Reply =>
      req.body.includes('"m-009"')
        ? { status: 503, headers: { 'retry-after': '60' }, body: 'busy' }
        : { headers: { 'content-type': 'application/json' }, body: '{"received":true}' },
  );
  const { deliveries } = await publish('m-009', { name: 'Hedy Lamarr' });
  const row = page
    .getByRole('list', { name: 'Deliveries, newest first' })
    .locator(`a[href$="${deliveries[0].id}"]`);
  await row.getByText('retrying', { exact: true }).waitFor();
  await row.getByText(/HTTP 503 · \d+ ms · 1 attempt · next /).waitFor();
  await page
    .locator('#stats-summary')
    .getByText(/ 1 retrying,/)
    .waitFor();
  await expectAccessible(page, 'a delivery retrying');
});

test('a sync of 200 entities: pause, resume, and the bar reaches 100%', async () => {
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByLabel('Label', { exact: true }).fill('Makerspace members');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('heading', { name: 'Makerspace members', level: 1 }).waitFor();

  // The receiver answers sync requests slowly until the sync is paused, so the sync surely still
  // runs when Pause is pressed. Pause is pressed once the first request has arrived, when the
  // workflow has written its first page: a pause that lands while a page is being written is
  // overwritten in the API's mirror by that page's "running", and an immediate resume gets a 409.
  let slow = true;
  receiver.reply((req) => ({
    delayMs: slow && req.body.includes('"action":"sync"') ? 1_500 : 0,
    headers: { 'content-type': 'application/json' },
    body: '{"received":true}',
  }));
  const sync = region('Sync data');
  const before = receiver.requests.length;
  await sync.getByRole('button', { name: 'Sync data' }).click();
  await receiver.waitFor(before + 1);
  await sync.getByRole('button', { name: 'Pause sync' }).click();
  await sync.getByText('paused', { exact: true }).waitFor();
  slow = false;
  await sync.getByRole('button', { name: 'Resume sync' }).click();
  await sync.getByText('completed', { exact: true }).waitFor({ timeout: 30_000 });
  await sync.getByText(`${SYNC_ENTITIES} sent`).waitFor();
  await sync.locator('strong', { hasText: '100%' }).waitFor();
  expect(await sync.getByRole('progressbar').getAttribute('value')).toBe(String(SYNC_ENTITIES));
  const synced = receiver.on('/x').filter((r) => JSON.parse(r.body).action === 'sync');
  expect(new Set(synced.map((r) => JSON.parse(r.body).entity.id)).size).toBe(SYNC_ENTITIES);
  await expectAccessible(page, 'a completed sync');
  await expectWorkflowLinksExist(page, stack.api.context.temporal);
});

test('the form shows and edits the throttle and the order', async () => {
  await page.getByRole('link', { name: 'Edit' }).click();
  const rate = page.getByLabel('Requests a second at most');
  const inFlight = page.getByLabel('Requests at once at most');
  const order = page.getByLabel('Order', { exact: true });
  expect([await rate.inputValue(), await inFlight.inputValue(), await order.inputValue()]).toEqual([
    '',
    '',
    'none',
  ]);
  await inFlight.fill('0');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#maxInFlight-error').waitFor();
  expect(await page.evaluate('document.activeElement.id')).toBe('in-flight');
  await expectAccessible(page, 'throttle refused');

  await rate.fill('25');
  await inFlight.fill('4');
  await order.selectOption('strict');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('heading', { name: 'Makerspace members', level: 1 }).waitFor();
  expect((await admin.get(`/v1/webhooks/${webhookId}`)).body).toMatchObject({
    maxRequestsPerSecond: 25,
    maxInFlight: 4,
    ordering: 'strict',
  });
  await page.getByRole('link', { name: 'Edit' }).click();
  await order.waitFor();
  expect([await rate.inputValue(), await inFlight.inputValue(), await order.inputValue()]).toEqual([
    '25',
    '4',
    'strict',
  ]);
  // Emptied, the limits go back to the application's defaults.
  await rate.fill('');
  await inFlight.fill('');
  await order.selectOption('none');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('heading', { name: 'Makerspace members', level: 1 }).waitFor();
  expect((await admin.get(`/v1/webhooks/${webhookId}`)).body).toMatchObject({
    maxRequestsPerSecond: null,
    maxInFlight: null,
    ordering: 'none',
  });
});

test('fits a 375 px wide screen', async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  // A deep link to a delivery: the session survives the reload.
  await page.goto(`${stack.api.url}/webhooks/${webhookId}/deliveries/${openedDelivery}`);
  await region(/Delivery person\.updated/)
    .getByText('webhook-signature', { exact: true })
    .waitFor();
  const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow).toBeLessThanOrEqual(0);
  // The charts shrink to the phone's width.
  const chart = await region('Deliveries and latency').locator('.chart canvas').first().boundingBox();
  expect(chart!.width).toBeLessThanOrEqual(375);
  await expectAccessible(page, '375 px wide');
  mkdirSync(path.join(root, 'test-results'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'test-results/panel-375.png') });
  await page.getByRole('region', { name: 'Delivery log' }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(root, 'test-results/panel-375-log.png') });
  await region(/Delivery person\.updated/)
    .getByText('webhook-signature', { exact: true })
    .scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(root, 'test-results/panel-375-detail.png') });
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('delete asks first, then removes the webhook', async () => {
  await page.getByRole('link', { name: 'Close' }).click();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByText('Delete this webhook?').waitFor();
  await page.getByRole('button', { name: 'Keep it' }).click();
  expect((await admin.get(`/v1/webhooks/${webhookId}`)).status).toBe(200);

  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  // The confirmation takes the focus: Enter confirms. Pressed before the panel has rendered it,
  // Enter would land on Delete again and do nothing (this test's old race, seen on busy machines).
  // (A locator, not waitForFunction: the panel's CSP forbids the eval that one polls with.)
  await page.locator('button:focus', { hasText: 'Delete webhook' }).waitFor();
  await page.keyboard.press('Enter');
  await page.getByText('No webhooks yet.').waitFor();
  expect((await admin.get(`/v1/webhooks/${webhookId}`)).status).toBe(404);
});

test('the entity browser finds an entity by type and id, or lists a type', async () => {
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Entities' }).click();
  await page.getByRole('heading', { name: 'Entities', level: 1 }).waitFor();
  await page.getByLabel('Type', { exact: true }).fill('person');
  await page.getByLabel('Id', { exact: true }).fill('m-007');
  await page.keyboard.press('Enter');
  const found = page.getByRole('list', { name: 'Entities found' });
  await found.getByText('"name": "Ada Lovelace"').waitFor();
  await found.getByText(/scopes org:1 · version \d+/).waitFor();
  await expectAccessible(page, 'an entity found');

  await page.getByLabel('Id', { exact: true }).fill('nobody');
  await page.getByRole('button', { name: 'Find' }).click();
  await page
    .getByRole('alert')
    .getByText(/not found/i)
    .waitFor();
  await page.getByLabel('Id', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Find' }).click();
  await found.getByRole('heading', { name: 'person/m-099' }).waitFor();
  expect(await found.getByRole('listitem').count()).toBe(100);
});

test('a publisher key created on the panel publishes; the Events page shows its events and fan-out, by type and entity; revoke', async () => {
  // Another application's webhook, so this application's pages stay as the other steps left them.
  const other = await admin.post('/v1/applications', {
    name: 'Bookings',
    access: { entityTypes: ['*'], scopes: ['*'] },
  });
  const hook = await admin.post('/v1/webhooks', {
    applicationId: other.body.id,
    url: receiver.url('/events-page'),
    events: ['booking.*'],
  });
  expect(hook.status).toBe(201);

  const nav = page.getByRole('navigation', { name: 'Admin' });
  await nav.getByRole('link', { name: 'Publisher keys' }).click();
  await page.getByRole('heading', { name: 'Publisher keys', level: 1 }).waitFor();
  await page.getByText('No keys yet.').waitFor();
  await expectAccessible(page, 'publisher keys, none yet');
  await page.getByLabel('Key name').fill('host system');
  expect(await page.getByRole('checkbox', { name: 'events:publish' }).isChecked()).toBe(true);
  await page.keyboard.press('Enter');
  const tokenBox = page.getByRole('textbox', { name: 'Publisher key token' });
  await tokenBox.waitFor();
  const token = await tokenBox.inputValue();
  expect(token).toMatch(/^hpk_/);
  await page.getByRole('button', { name: 'Copy publisher key token' }).waitFor();
  await page.getByRole('list', { name: 'Publisher keys' }).getByText('host system').waitFor();
  await expectAccessible(page, 'a publisher key with its token');
  await page.getByRole('button', { name: 'I have stored it' }).click();
  expect(await tokenBox.count()).toBe(0);

  const publishWith = async (body: Record<string, unknown>) => {
    const res = await fetch(`${stack.api.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { id: string } };
  };
  const created = await publishWith({
    type: 'booking.created',
    entity: { type: 'booking', id: 'b-1' },
    data: {},
  });
  expect(created.status).toBe(202);
  const updated = await publishWith({
    type: 'booking.updated',
    entity: { type: 'booking', id: 'b-1' },
    data: { room: 'Workshop' },
  });
  expect(updated.status).toBe(202);

  await nav.getByRole('link', { name: 'Events' }).click();
  await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
  const events = page.getByRole('list', { name: 'Events' });
  const cards = events.locator(':scope > li');
  // Newest first: the update, then the create, each with its delivery to the webhook.
  await cards.first().getByRole('heading', { name: 'booking.updated' }).waitFor();
  await cards.nth(1).getByRole('heading', { name: 'booking.created' }).waitFor();
  await page
    .getByRole('list', { name: `Deliveries of ${updated.body.id}` })
    .getByText(hook.body.id)
    .waitFor();
  await expectAccessible(page, 'the latest events');
  // The sync's seeded entities made more than a page of events.
  expect(await cards.count()).toBe(20);
  await page.getByRole('button', { name: 'Load more' }).click();
  await cards.nth(20).waitFor();

  await page.getByLabel('Type', { exact: true }).fill('booking.created');
  await page.keyboard.press('Enter');
  await events.getByRole('heading', { name: 'booking.updated' }).waitFor({ state: 'detached' });
  await page
    .getByRole('list', { name: `Deliveries of ${created.body.id}` })
    .getByText(hook.body.id)
    .waitFor();
  expect(await cards.count()).toBe(1);

  await page.getByLabel('Type', { exact: true }).fill('');
  await page.getByLabel('Entity type').fill('booking');
  await page.getByLabel('Entity id').fill('b-1');
  await page.getByRole('button', { name: 'Filter' }).click();
  await events.getByRole('heading', { name: 'booking.updated' }).waitFor();
  expect(await cards.count()).toBe(2);
  await expectAccessible(page, 'events of one entity');

  await nav.getByRole('link', { name: 'Publisher keys' }).click();
  await page.getByRole('button', { name: 'Revoke key host system' }).click();
  await page.getByRole('button', { name: 'Keep it' }).waitFor();
  expect(await page.evaluate('document.activeElement.textContent')).toBe('Revoke host system now');
  await page.keyboard.press('Enter');
  await page.getByRole('status').getByText('Revoked host system').waitFor();
  await page.getByText('No keys yet.').waitFor();
  expect(
    (await publishWith({ type: 'booking.deleted', entity: { type: 'booking', id: 'b-1' } })).status,
  ).toBe(401);
});

test('an application key lands on its own application, without the picker', async () => {
  const key = await admin.post(`/v1/applications/${appId}/keys`, {
    name: 'panel',
    scopes: ['webhooks:read', 'webhooks:write', 'deliveries:read', 'sync:run'],
  });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token or application key').fill(key.body.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  await page.getByText('Application key', { exact: true }).waitFor();
  expect(await page.getByLabel('Application', { exact: true }).count()).toBe(0);
  await page.getByText('No webhooks yet.').waitFor();
});

test('the page raised no script error and loaded nothing from elsewhere', () => {
  expect(problems).toEqual([]);
});
