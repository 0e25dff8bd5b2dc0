// The release workflow (a resume's ordered send of held deliveries), with its activities replaced
// (test/workflows/harness.ts).
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReleaseBatch } from '../../activities';
import { releaseRequestedSignal, releaseWorkflow } from '../../workflows/release';
import { eventually } from '../support/client';
import { RETRY, testEnvironment, withWorker } from './harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await testEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

const input = (webhookId: string) => ({
  webhookId,
  applicationId: 'app_test',
  retry: RETRY,
  requestTimeoutMs: 2_000,
});

test('batches in order from the oldest, counting what was sent and what its attempt handed over; it ends when nothing is held', async () => {
  const afters: string[] = [];
  const batches: ReleaseBatch[] = [
    {
      outcomes: [
        { id: 'dlv_rel_a', outcome: 'sent' },
        { id: 'dlv_rel_b', outcome: 'handedOver' },
      ],
      last: 'dlv_rel_b',
    },
    { outcomes: [{ id: 'dlv_rel_c', outcome: 'sent' }], last: 'dlv_rel_c' },
    { outcomes: [], last: null },
  ];
  await withWorker(
    env,
    {
      async activeSyncOfWebhook() {
        return null;
      },
      async sendHeldDeliveries(i: { after: string }) {
        afters.push(i.after);
        return batches[afters.length - 1];
      },
    },
    async (taskQueue) => {
      const result = await env.client.workflow.execute(releaseWorkflow, {
        taskQueue,
        workflowId: 'release:wh_order',
        args: [input('wh_order')],
      });
      expect(result).toEqual({ sent: 2, handedOver: 1 });
      expect(afters).toEqual(['', 'dlv_rel_b', 'dlv_rel_c']);
    },
  );
});

test('a resume while it runs makes it look again from the oldest once this pass ends; paused again, it stops', async () => {
  const afters: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  await withWorker(
    env,
    {
      async activeSyncOfWebhook() {
        return null;
      },
      async sendHeldDeliveries(i: { after: string }): Promise<ReleaseBatch> {
        afters.push(i.after);
        if (afters.length === 1) {
          await gate; // the first batch is under way when the second resume comes
          return { outcomes: [{ id: 'dlv_x', outcome: 'sent' }], last: 'dlv_x' };
        }
        if (afters.length === 2) return { outcomes: [], last: null };
        return { outcomes: [], last: 'dlv_y', stopped: 'inactive' };
      },
    },
    async (taskQueue) => {
      const handle = await env.client.workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: 'release:wh_again',
        args: [input('wh_again')],
      });
      await eventually(async () => afters.length === 1, 10_000, 10);
      await handle.signal(releaseRequestedSignal);
      release();
      expect(await handle.result()).toEqual({ sent: 1, handedOver: 0 });
      expect(afters).toEqual(['', 'dlv_x', '']);
    },
  );
});

test('a waiting delivery workflow from before releases that is gone: the release adopts its delivery and looks again', async () => {
  const adopted: string[][] = [];
  const afters: string[] = [];
  await withWorker(
    env,
    {
      async activeSyncOfWebhook() {
        return null;
      },
      async sendHeldDeliveries(i: { after: string }): Promise<ReleaseBatch> {
        afters.push(i.after);
        if (afters.length === 1)
          return { outcomes: [{ id: 'dlv_gone', outcome: 'legacy' }], last: 'dlv_gone' };
        if (afters.length === 3) return { outcomes: [{ id: 'dlv_gone', outcome: 'sent' }], last: 'dlv_gone' };
        return { outcomes: [], last: null };
      },
      async adoptHeldDeliveries(i: { deliveryIds: string[] }) {
        adopted.push(i.deliveryIds);
      },
    },
    async (taskQueue) => {
      const result = await env.client.workflow.execute(releaseWorkflow, {
        taskQueue,
        workflowId: 'release:wh_legacy',
        args: [input('wh_legacy')],
      });
      expect(adopted).toEqual([['dlv_gone']]);
      expect(afters).toEqual(['', 'dlv_gone', '', 'dlv_gone']);
      expect(result).toEqual({ sent: 1, handedOver: 0 });
    },
  );
});
