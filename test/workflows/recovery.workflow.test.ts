// The recovery workflow's control (pause, resume, cancel updates), with its activities replaced.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RecoveryProgress } from '../../activities/recovery';
import {
  cancelRecoveryUpdate,
  pauseRecoveryUpdate,
  recoveryWorkflow,
  resumeRecoveryUpdate,
} from '../../workflows/recovery';
import { eventually } from '../support/client';
import { testEnvironment, withWorker } from './harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await testEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

/** A recovery of `pages` pages of 100, each taking `pageMs`. */
function fakeRecovery(pages: number, pageMs: number) {
  const log = { pages: [] as string[], progress: [] as RecoveryProgress[] };
  const activities = {
    async countRecoverableDeliveries() {
      return pages * 100;
    },
    async redeliverRecoveryPage(i: { after: string; progress: RecoveryProgress }) {
      log.progress.push(i.progress);
      await new Promise((r) => setTimeout(r, pageMs));
      const n = i.after === '' ? 0 : Number(i.after.slice(1));
      if (n >= pages) return { redelivered: 0, last: null };
      log.pages.push(i.after);
      return { redelivered: 100, last: `p${n + 1}` };
    },
    async recordRecoveryProgress(p: RecoveryProgress) {
      log.progress.push(p);
    },
  };
  return { log, activities };
}

const scope = (id: string) => ({
  recoveryId: id,
  webhookId: 'wh_x',
  since: '2026-11-30T00:00:00Z',
  until: '2026-12-01T00:00:00Z',
  statuses: ['failed'],
});

test('pause stops between pages and answers paused once mirrored; resume goes on; every page once', async () => {
  const { log, activities } = fakeRecovery(20, 30);
  await withWorker(env, activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(recoveryWorkflow, {
      taskQueue,
      workflowId: 'recover:rcv_pause',
      args: [{ scope: scope('rcv_pause') }],
    });
    await eventually(async () => log.pages.length >= 3, 10_000, 10);
    expect((await handle.executeUpdate(pauseRecoveryUpdate)).status).toBe('paused');
    expect(log.progress.at(-1)?.status).toBe('paused');
    const atPause = log.pages.length;
    expect(await handle.executeUpdate(resumeRecoveryUpdate)).toMatchObject({ status: 'running' });
    expect(atPause).toBeLessThan(20);
    expect(await handle.result()).toMatchObject({ status: 'completed', total: 2000, redelivered: 2000 });
    expect(new Set(log.pages).size).toBe(20);
    // Every write carries a higher revision than the one before.
    const revisions = log.progress.map((p) => p.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
  });
});

test('cancel answers once the recovery has stopped, and nothing more is redelivered', async () => {
  const { log, activities } = fakeRecovery(50, 30);
  await withWorker(env, activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(recoveryWorkflow, {
      taskQueue,
      workflowId: 'recover:rcv_cancel',
      args: [{ scope: scope('rcv_cancel') }],
    });
    await eventually(async () => log.pages.length >= 2, 10_000, 10);
    const answer = await handle.executeUpdate(cancelRecoveryUpdate);
    const pagesAtAnswer = log.pages.length;
    expect(answer.status).toBe('cancelled');
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(log.pages.length).toBe(pagesAtAnswer);
    expect(pagesAtAnswer).toBeLessThan(50);
  });
});
