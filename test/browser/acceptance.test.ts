// Issue 15's acceptance test: from an empty Herald, by clicking and typing only, the admin creates an
// application and a key, signs in with the copied token, points a webhook at a receiver that fails,
// sees the 500s in the log and the charts, and recovers the failed deliveries once it answers again.
// Only publishing goes through the API, as the host system does.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expectAccessible, expectWorkflowLinksExist, launchChromium, panelPage } from '../support/browser';
import { apiClient, eventually } from '../support/client';
import { type Receiver, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

const root = path.resolve(__dirname, '../..');
// As in panel.test.ts: the README's screenshots on request, else a copy under test-results/.
const screenshot = (name: string) =>
  path.join(root, process.env.HERALD_UPDATE_SCREENSHOTS ? 'docs/screenshots' : 'test-results', `${name}.png`);
/** Events published while the receiver fails: each fails, and so disables the webhook. */
const FAILED = 2;

let stack: Stack;
let receiver: Receiver;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  [stack, receiver, browser] = await Promise.all([startStack(), startReceiver(), launchChromium()]);
  page = await panelPage(browser, stack.api.url, problems);
  mkdirSync(path.dirname(screenshot('x')), { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await receiver?.close();
});

test('an admin sets up an application, its key signs in, and failed deliveries are seen and recovered', async () => {
  let failing = true;
  receiver.reply(() => (failing ? { status: 500, body: 'oven on fire' } : { body: 'ok' }));
  const region = (name: string | RegExp) => page.getByRole('region', { name });
  const summary = page.locator('#stats-summary');

  // Sign in as the admin, with the keyboard.
  await page.goto(stack.api.url);
  await page.getByLabel('Admin token or application key').focus();
  await page.keyboard.type(stack.adminToken);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();

  // An application...
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Applications' }).click();
  await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
  await page.getByText('No applications yet.').waitFor();
  await expectAccessible(page, 'applications, none yet');
  await page.getByLabel('Name', { exact: true }).fill('Bakery');
  await page.getByLabel('Scopes it may see').fill('shop:1');
  await page.getByRole('button', { name: 'Create application' }).click();
  await page.getByRole('heading', { name: 'Bakery', level: 1 }).waitFor();
  // ...renamed...
  await page.getByLabel('Name', { exact: true }).fill('Bakery Ltd');
  await page.getByLabel('Entity types it may see').fill('order');
  await page.getByRole('button', { name: 'Save application' }).click();
  await page.getByRole('heading', { name: 'Bakery Ltd', level: 1 }).waitFor();

  // ...and its key, created with the keyboard; the token is shown once and copied.
  const keys = region('Keys');
  await keys.getByLabel('Key name').focus();
  await page.keyboard.type('panel key');
  await page.keyboard.press('Enter');
  const token = await page.getByRole('textbox', { name: 'Key token' }).inputValue();
  expect(token).toMatch(/^hk_/);
  await keys.getByText('panel key').waitFor();
  await expectAccessible(page, 'a key created, its token shown');
  await page.screenshot({ path: screenshot('application-keys'), fullPage: true });
  await page.getByRole('button', { name: 'Copy key token' }).click();
  await page.getByText('Copied', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'I have stored it' }).click();
  expect(await page.getByRole('textbox', { name: 'Key token' }).count()).toBe(0);

  // Sign in with the key: the copied token, pasted.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token or application key').focus();
  await page.keyboard.press('ControlOrMeta+V');
  expect(await page.getByLabel('Admin token or application key').inputValue()).toBe(token);
  await page.keyboard.press('Enter');
  await page.getByText('Application key', { exact: true }).waitFor();
  await page.getByText('No webhooks yet.').waitFor();

  // A webhook to the receiver.
  await page.getByRole('link', { name: 'New webhook' }).click();
  await page.getByLabel('Endpoint URL').fill(receiver.url('/bakery'));
  await page.getByLabel('Label', { exact: true }).fill('Orders');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await page.getByLabel('Window').selectOption('hour');
  await summary.getByText(/^Last hour: 0 succeeded, 0 failed/).waitFor();
  await page
    .getByRole('status')
    .getByText(/^\W*Live$/)
    .waitFor();

  // The receiver fails: each event fails after its retries, and that disables the webhook.
  const publisher = apiClient(stack.api.url, stack.adminToken);
  for (let i = 1; i <= FAILED; i++) {
    const res = await publisher.post('/v1/events', {
      type: 'order.created',
      entity: { type: 'order', id: `o-${i}` },
      data: { loaves: i },
      scopes: ['shop:1'],
    });
    expect(res.status).toBe(202);
    const row = page
      .getByRole('list', { name: 'Deliveries, newest first' })
      .locator(`a[href$="${res.body.deliveries[0].id}"]`);
    await row.getByText(/HTTP 500 · \d+ ms · 4 attempts/).waitFor();
    await row.getByText('failed', { exact: true }).waitFor();
    await page.locator('.heading').getByText('disabled', { exact: true }).waitFor();
    if (i < FAILED) {
      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      await page.locator('.heading').getByText('active', { exact: true }).waitFor();
    }
  }
  await summary
    .getByText(new RegExp(`^Last hour: 0 succeeded, ${FAILED} failed, 0 retrying, 0 held`))
    .waitFor();
  await expectAccessible(page, 'failed deliveries in the log and the charts');

  // An attempt opens to its request and response.
  await page.getByRole('list', { name: 'Deliveries, newest first' }).getByRole('link').first().click();
  const detail = region(/Delivery order\.created/);
  // The latest attempt is open, the earlier ones open on a click.
  const bodies = detail.getByText('oven on fire').filter({ visible: true });
  await bodies.waitFor();
  await detail.getByText('#3').click();
  await bodies.nth(1).waitFor();
  await expectAccessible(page, 'a failed delivery opened');
  await page.screenshot({ path: screenshot('failed-deliveries'), fullPage: true });
  await detail.getByRole('link', { name: 'Close' }).click();

  // The receiver answers again: resume, and recover the failed deliveries of the last hour.
  failing = false;
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await page.locator('.heading').getByText('active', { exact: true }).waitFor();
  const recovery = region('Recover failed deliveries');
  await recovery.getByLabel('Failed in').selectOption({ label: 'the last hour' });
  await recovery.getByRole('button', { name: 'Recover failed deliveries' }).focus();
  await page.keyboard.press('Enter');
  const bar = recovery.getByRole('progressbar', { name: `${FAILED} of ${FAILED} redelivered` });
  await bar.waitFor({ timeout: 30_000 });
  await recovery.getByText('completed', { exact: true }).waitFor();
  expect([await bar.getAttribute('value'), await bar.getAttribute('max')]).toEqual([
    String(FAILED),
    String(FAILED),
  ]);
  await eventually(
    async () => receiver.requests.filter((r) => r.body.includes('order.created')).length > FAILED * 4,
  );
  await summary
    .getByText(new RegExp(`^Last hour: ${FAILED} succeeded, ${FAILED} failed, 0 retrying, 0 held`))
    .waitFor({ timeout: 30_000 });
  await page
    .getByRole('list', { name: 'Deliveries, newest first' })
    .getByText(/HTTP 200/)
    .first()
    .waitFor();
  await expectAccessible(page, 'a completed recovery');
  expect(await expectWorkflowLinksExist(page, stack.api.context.temporal)).toBeGreaterThanOrEqual(1);
  await page.screenshot({ path: screenshot('recovery'), fullPage: true });

  // Back as the admin: the key is revoked, with the keyboard, and its token stops working.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token or application key').fill(stack.adminToken);
  await page.keyboard.press('Enter');
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Applications' }).click();
  await page.getByRole('link', { name: 'Bakery Ltd' }).click();
  await page.getByRole('button', { name: 'Revoke key panel key' }).focus();
  await page.keyboard.press('Enter');
  await page.locator('button:focus', { hasText: 'Revoke panel key now' }).waitFor();
  await page.keyboard.press('Enter');
  await page.getByRole('status').getByText('Revoked panel key').waitFor();
  await region('Keys').getByText('No keys yet.').waitFor();
  expect(await page.evaluate('document.activeElement.id')).toBe('key-name');
  await expectAccessible(page, 'a key revoked');
  expect((await apiClient(stack.api.url, token).get('/v1/webhooks')).status).toBe(401);

  expect(problems).toEqual([]);
});
