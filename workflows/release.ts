import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  continueAsNew,
  defineSignal,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import type { HeraldActivities } from '../activities';
import { deliveryWorkflow, deliveryWorkflowV2, resumeSignal } from './delivery';
import { type DeliveryContinuation, type RetryPolicySettings, workflowIds } from './shared';
import { webhookResumedSignal } from './sync';

export interface ReleaseWorkflowInput {
  webhookId: string;
  applicationId: string;
  retry: RetryPolicySettings;
  requestTimeoutMs: number;
  /** Carried across continue-as-new: the last delivery looked at. */
  after?: string;
}

/** Patch id: releases started before it run a strict delivery's retries as a deliveryWorkflow. */
export const STRICT_CHILD_V2 = 'release-strict-child-v2';

/** A resume while the release runs: look again from the oldest held delivery once this pass ends. */
export const releaseRequestedSignal = defineSignal('releaseRequested');

/** Deliveries per activity: each is sent in turn, so a batch takes as long as its requests. */
const BATCH = 100;
const HISTORY_LIMIT = 10_000;

/**
 * A webhook's release (docs/lifecycle.md), `release:<webhookId>`, started or signalled through
 * the workflow outbox: by a resume, and for a webhook whose ordering is strict by every new
 * delivery (the workers' starter hands those to it). It wakes the webhook's sync should one wait,
 * then sends the webhook's held (and, strict, new) deliveries one at a time in published order,
 * so the receiver sees them in that order. One the receiver fails is handed over to its own
 * delivery workflow with its attempt and backoff; in strict order the release runs that workflow
 * itself and waits for it to end (succeeded, or failed after its retries) before the next. It
 * ends when nothing is left, or when the webhook is paused or disabled again (the next resume
 * starts another).
 */
export async function releaseWorkflow(
  input: ReleaseWorkflowInput,
): Promise<{ sent: number; handedOver: number }> {
  const { sendHeldDeliveries, activeSyncOfWebhook, adoptHeldDeliveries, deliveryHasEnded } =
    proxyActivities<HeraldActivities>({
      startToCloseTimeout: `${BATCH * (input.requestTimeoutMs + 1_000)}ms`,
      heartbeatTimeout: input.requestTimeoutMs + 10_000,
      retry: { initialInterval: '1s', maximumInterval: '1m' },
    });
  const owner = workflowIds.release(input.webhookId);
  let again = false;
  setHandler(releaseRequestedSignal, () => {
    again = true;
  });
  const totals = { sent: 0, handedOver: 0 };

  /**
   * Strict order: runs a failed delivery's own workflow (its retries, with the backoff its attempt
   * chose) and waits for it to end before anything later is sent. Should that workflow exist
   * already (this release's earlier run started it), waits for its delivery to end instead.
   */
  async function untilEnded(deliveryId: string, continueFrom: DeliveryContinuation): Promise<string> {
    try {
      const type = patched(STRICT_CHILD_V2) ? deliveryWorkflowV2 : deliveryWorkflow;
      const child = await startChild(type, {
        workflowId: workflowIds.delivery(deliveryId),
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [{ deliveryId, retry: input.retry, requestTimeoutMs: input.requestTimeoutMs, continueFrom }],
      });
      return await child.result();
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      while (!(await deliveryHasEnded({ deliveryId }))) await sleep('1s');
      return 'ended';
    }
  }

  if (!input.after) {
    const syncId = await activeSyncOfWebhook({ webhookId: input.webhookId });
    if (syncId) {
      await getExternalWorkflowHandle(workflowIds.sync(syncId))
        .signal(webhookResumedSignal)
        .catch(() => {}); // it ended meanwhile
    }
  }

  let after = input.after ?? '';
  for (;;) {
    const batch = await sendHeldDeliveries({
      webhookId: input.webhookId,
      owner,
      after,
      limit: BATCH,
      maxAttempts: input.retry.maxAttempts,
      retry: input.retry,
    });
    const orphans: string[] = [];
    for (const o of batch.outcomes) {
      if (o.outcome === 'sent') totals.sent++;
      else if (o.outcome === 'legacy') {
        // A delivery workflow from before releases waits in the hold for this signal; should it be
        // gone, the release takes its delivery over.
        await getExternalWorkflowHandle(workflowIds.delivery(o.id))
          .signal(resumeSignal)
          .catch(() => orphans.push(o.id));
      } else if (o.outcome === 'handedOver') totals.handedOver++;
      else if (o.outcome === 'awaiting') {
        totals.handedOver++;
        if ((await untilEnded(o.id, o.continueFrom)) === 'held') return totals; // paused again
      }
    }
    if (orphans.length > 0) {
      await adoptHeldDeliveries({ deliveryIds: orphans });
      again = true;
    }
    if (batch.stopped !== undefined || batch.last === null) {
      // Done, unless another resume came meanwhile: what was held since may sit before the cursor.
      if (!again) return totals;
      again = false;
      after = '';
    } else after = batch.last;
    if (workflowInfo().historyLength >= HISTORY_LIMIT || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof releaseWorkflow>({ ...input, after });
    }
  }
}
