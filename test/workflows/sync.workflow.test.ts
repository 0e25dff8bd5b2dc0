// The sync workflow's control (pause, resume, cancel updates) and its hand-overs, with its
// activities replaced (test/workflows/harness.ts).
import { CancelledFailure, Context, sleep } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SendInput, SyncOutcome } from '../../activities';
import type { SyncProgress } from '../../activities/sync';
import { cancelSyncUpdate, pauseSyncUpdate, resumeSyncUpdate, syncWorkflow } from '../../workflows/sync';
import { eventually } from '../support/client';
import { RETRY, testEnvironment, withWorker } from './harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await testEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

/** A sync of `total` entities whose chunk activity takes `perEntityMs` for each, recording everything. */
function fakeSync(total: number, perEntityMs: number, outcomeOf: (id: string) => SyncOutcome = () => 'sent') {
  const log = {
    sent: [] as string[],
    progress: [] as SyncProgress[],
    chunkCancelled: 0,
    cancelledUnsent: [] as string[],
    handedOver: [] as { at: number; input: SendInput }[],
    chunkEndedAt: 0,
  };
  const activities = {
    async countSyncEntities() {
      return total;
    },
    async prepareSyncPage(i: { firstIndex: number; limit: number; progress: SyncProgress }) {
      log.progress.push(i.progress);
      const end = Math.min(total, i.firstIndex + i.limit);
      const deliveryIds = Array.from({ length: end - i.firstIndex }, (_, k) => `dlv_${i.firstIndex + k}`);
      return { deliveryIds, last: deliveryIds.length ? { type: 'person', id: String(end) } : null };
    },
    async recordSyncProgress(p: SyncProgress) {
      log.progress.push(p);
    },
    async sendSyncChunk(i: { deliveryIds: string[] }) {
      const ctx = Context.current();
      const outcomes: SyncOutcome[] = [];
      for (const id of i.deliveryIds) {
        if (ctx.cancellationSignal.aborted) {
          log.chunkCancelled++;
          throw new CancelledFailure('stopped');
        }
        await sleep(perEntityMs).catch(() => {});
        log.sent.push(id);
        outcomes.push(outcomeOf(id));
        ctx.heartbeat();
      }
      log.chunkEndedAt = Date.now();
      return outcomes;
    },
    async cancelUnsentSyncDeliveries(i: { syncId: string }) {
      log.cancelledUnsent.push(i.syncId);
      return 0;
    },
    async sendDelivery(input: SendInput) {
      log.handedOver.push({ at: Date.now(), input });
      return null;
    },
  };
  return { log, activities };
}

const startSync = (taskQueue: string, syncId: string) =>
  env.client.workflow.start(syncWorkflow, {
    taskQueue,
    workflowId: `sync:${syncId}`,
    args: [
      {
        scope: { syncId, webhookId: 'wh_test', applicationId: 'app_test', entityTypes: [] },
        intervalMs: 0,
        concurrency: 4,
        retry: RETRY,
        requestTimeoutMs: 2_000,
      },
    ],
  });

test('pause answers paused once the mirror says so and stops the chunk under way; resume goes on; every entity is sent once', async () => {
  // Chunks of 16 at 50 ms each: a pause lands well inside one.
  const { log, activities } = fakeSync(48, 50);
  await withWorker(env, activities, async (taskQueue) => {
    const handle = await startSync(taskQueue, 'sync_pause');
    await eventually(async () => log.sent.length >= 4, 10_000, 10);
    const paused = await handle.executeUpdate(pauseSyncUpdate);
    expect(paused.status).toBe('paused');
    expect(log.progress.at(-1)?.status).toBe('paused');
    // The chunk stops between two requests once its heartbeat learns of the pause.
    await eventually(async () => log.chunkCancelled > 0, 10_000, 10);
    const atPause = log.sent.length;
    expect((await handle.query('progress')) as SyncProgress).toMatchObject({ status: 'paused' });
    expect(log.sent.length).toBe(atPause);
    expect((await handle.executeUpdate(resumeSyncUpdate)).status).toBe('running');
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'completed', sent: 48, failed: 0, total: 48 });
    expect(new Set(log.sent).size).toBe(48);
  });
});

test('cancel answers once the sync has stopped: its unsent deliveries cancelled, the final state written, nothing sent after', async () => {
  const { log, activities } = fakeSync(400, 10);
  await withWorker(env, activities, async (taskQueue) => {
    const handle = await startSync(taskQueue, 'sync_cancel');
    await eventually(async () => log.sent.length >= 10, 10_000, 10);
    const answer = await handle.executeUpdate(cancelSyncUpdate);
    const sentAtAnswer = log.sent.length;
    expect(answer.status).toBe('cancelled');
    expect(log.cancelledUnsent).toEqual(['sync_cancel']);
    expect(log.progress.at(-1)?.status).toBe('cancelled');
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(await handle.result()).toMatchObject({ status: 'cancelled' });
    expect(log.sent.length).toBe(sentAtAnswer);
    expect(sentAtAnswer).toBeLessThan(400);
  });
});

test('a pause and resume in quick succession leave the sync running (the stopped chunk is sent again)', async () => {
  const { log, activities } = fakeSync(60, 10);
  await withWorker(env, activities, async (taskQueue) => {
    const handle = await startSync(taskQueue, 'sync_flicker');
    await eventually(async () => log.sent.length >= 5, 10_000, 10);
    await handle.executeUpdate(pauseSyncUpdate);
    await handle.executeUpdate(resumeSyncUpdate);
    expect(await handle.result()).toMatchObject({ status: 'completed', total: 60 });
  });
});

test('an entity whose attempt handed it over counts as failed, and the sync starts no workflow for it', async () => {
  const { log, activities } = fakeSync(20, 1, (id) => (id === 'dlv_7' ? 'handedOver' : 'sent'));
  await withWorker(env, activities, async (taskQueue) => {
    const handle = await startSync(taskQueue, 'sync_handover');
    expect(await handle.result()).toMatchObject({ status: 'completed', sent: 19, failed: 1 });
    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);
    expect(log.handedOver).toEqual([]);
  });
});
