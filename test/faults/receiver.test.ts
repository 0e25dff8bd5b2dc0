import type { Reply } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';
import { createLedger, type FaultReceiver, faultReceiver, faultWebhooks, publish, scaled } from './ledger';

/**
 * Receivers that misbehave: slow beyond the request timeout, resetting connections, answering 500
 * half the time. Short timeouts and retries keep each case to seconds; every event still arrives.
 */

// Short, but long enough that a prompt answer from this busy test process is not taken for a slow one.
const TIMEOUT_MS = 1_000;
const env = {
  HERALD_RATE_LIMIT_PER_SECOND: '0',
  HERALD_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
  HERALD_RETRY_INITIAL_MS: '100',
  HERALD_RETRY_BACKOFF: '2',
  HERALD_RETRY_MAX_INTERVAL_MS: '1000',
  // Enough that a 50 % receiver fails a delivery for good with odds of 2^-30.
  HERALD_RETRY_MAX_ATTEMPTS: '30',
};

let stack: Stack;
let receiver: FaultReceiver | undefined;

beforeAll(async () => {
  stack = await startStack({ env });
});
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});
afterAll(async () => {
  await stack?.stop();
});

/** A small seeded generator, so "half the time" is the same half on every run. */
function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

async function runCase(name: string, behaviour: (nth: number) => Reply) {
  const events = scaled(100);
  const ledger = createLedger(name);
  receiver = await faultReceiver(ledger, TIMEOUT_MS, behaviour);
  // A scope per case: one case's events never fan out to another case's (closed) receiver.
  await faultWebhooks(stack.api.url, stack.adminToken, receiver, name);
  await publish({
    apiUrl: () => stack.api.url,
    adminToken: stack.adminToken,
    ledger,
    prefix: name,
    scope: name,
    from: 0,
    to: events,
  });
  const counts = await ledger.complete(240_000);
  console.log(`${ledger.line()} (${counts.requests} requests)`);
  expect(counts).toMatchObject({ missing: 0, unexpected: 0, published: events });
  // The failures really happened: more requests than deliveries.
  expect(counts.requests).toBeGreaterThan(counts.expected);
  await ledger.verifyDeliveryRows(stack.pool);
  return counts;
}

test('a receiver slower than the request timeout: the first request of every delivery times out', async () => {
  // The late answer is written to a connection Herald has already given up on.
  await runCase('receiver-slow', (nth) => (nth === 0 ? { delayMs: TIMEOUT_MS * 2.5 } : {}));
});

test('a receiver that resets connections: the first request of every delivery and a third of the rest', async () => {
  const random = seeded(7);
  await runCase('receiver-reset', (nth) => (nth === 0 || random() < 1 / 3 ? { reset: true } : {}));
});

test('a receiver that answers 500 half the time', async () => {
  const random = seeded(42);
  await runCase('receiver-500', () => (random() < 0.5 ? { status: 500 } : {}));
});
