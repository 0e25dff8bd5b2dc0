// What the browser tests share: Debian's Chromium through playwright-core, a page that records
// what should never happen (script errors, requests elsewhere), axe on every state visited, and
// a check that every Temporal Web UI link names a workflow that exists.
import AxeBuilder from '@axe-core/playwright';
import type { Client } from '@temporalio/client';
import { type Browser, chromium, type Page } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/**
 * A page on the panel at `baseUrl` whose script errors and requests to anywhere else land in
 * `problems`. API errors the tests provoke show in the console as failed loads: those are expected.
 */
export async function panelPage(browser: Browser, baseUrl: string, problems: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  const page = await context.newPage();
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(baseUrl) && !r.url().startsWith('data:')) problems.push(`request to ${r.url()}`);
  });
  page.setDefaultTimeout(15_000);
  return page;
}

/** Runs axe on the page as it is now; any serious or critical violation fails, named with `state`. */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  // Legacy mode runs in this page only: the panel has no frames, and the default opens a page of its own.
  const results = await new AxeBuilder({ page }).setLegacyMode().analyze();
  const grave = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${state}: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(grave).toEqual([]);
}

/** Every link into the Temporal Web UI on the page names a workflow the server knows. */
export async function expectWorkflowLinksExist(page: Page, temporal: Client): Promise<number> {
  const hrefs = await page
    .locator('a[href*="/namespaces/"][href*="/workflows/"]')
    .evaluateAll((links) => links.map((a) => (a as unknown as { href: string }).href));
  for (const href of hrefs) {
    const workflowId = decodeURIComponent(/\/workflows\/([^/?#]+)/.exec(href)![1]);
    await expect(temporal.workflow.getHandle(workflowId).describe()).resolves.toBeDefined();
  }
  return hrefs.length;
}
