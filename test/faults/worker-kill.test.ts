import type { ChildProcess } from 'node:child_process';
import { eventually } from '../support/client';
import { spawnWorker, stopChild } from '../support/processes';
import { type Stack, sharedServices, startStack } from '../support/stack';
import { createLedger, type FaultReceiver, faultReceiver, faultWebhooks, publish, scaled } from './ledger';

let stack: Stack;
let receiver: FaultReceiver;
const workers: ChildProcess[] = [];

afterAll(async () => {
  for (const w of workers) await stopChild(w);
  await stack?.stop();
  await receiver?.close();
});

/** The worker processes polling the stack's task queue, by pid (the SDK's identity is pid@host). */
async function pollingPids(): Promise<Set<number>> {
  const { temporal, config } = { temporal: stack.api.context.temporal, config: stack.config };
  const answer = await temporal.workflowService.describeTaskQueue({
    namespace: config.temporal.namespace,
    taskQueue: { name: config.temporal.taskQueue },
    taskQueueType: 1, // workflow tasks
  });
  return new Set((answer.pollers ?? []).map((p) => Number(String(p.identity).split('@')[0])));
}

test('SIGKILL one of two worker processes in the middle of 1,000 deliveries', async () => {
  const events = scaled(500); // two webhooks: 1,000 deliveries at full size
  const ledger = createLedger('worker-kill');
  stack = await startStack({ worker: false, env: { HERALD_RATE_LIMIT_PER_SECOND: '0' } });
  // A short wait at the receiver keeps requests in flight when the kill comes.
  receiver = await faultReceiver(ledger, stack.config.requestTimeoutMs, () => ({ delayMs: 20 }));
  await faultWebhooks(stack.api.url, stack.adminToken, receiver);

  const bundle = { HERALD_WORKFLOW_BUNDLE: sharedServices().bundle };
  workers.push(spawnWorker(stack, bundle), spawnWorker(stack, bundle));
  await eventually(async () => {
    const pids = await pollingPids();
    return workers.every((w) => pids.has(w.pid!));
  }, 120_000);

  await publish({
    apiUrl: () => stack.api.url,
    adminToken: stack.adminToken,
    ledger,
    prefix: 'wk',
    from: 0,
    to: events,
  });
  const total = ledger.counts().expected;
  expect(total).toBe(events * 2);
  await eventually(async () => ledger.counts().delivered >= total / 4, 120_000, 50);
  workers[0].kill('SIGKILL');
  const atKill = ledger.counts().delivered;
  expect(atKill).toBeLessThan(total);

  // Work the dead worker held comes back by Temporal's timeouts and goes to the other one.
  const counts = await ledger.complete(180_000);
  console.log(`${ledger.line()} (${atKill} delivered at the kill)`);
  expect(counts).toMatchObject({ missing: 0, unexpected: 0 });
  await ledger.verifyDeliveryRows(stack.pool);
});
