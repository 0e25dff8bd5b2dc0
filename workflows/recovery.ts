import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { HeraldActivities } from '../activities';
import type { RecoveryProgress, RecoveryScope } from '../activities/recovery';

export interface RecoveryWorkflowInput {
  scope: RecoveryScope;
  /** Carried across continue-as-new. */
  state?: { after: string; total: number; redelivered: number; paused: boolean; revision: number };
}

/** Pause, resume and cancel: each answers with the progress it leads to, once PostgreSQL has it. */
export const pauseRecoveryUpdate = defineUpdate<RecoveryProgress>('pauseRecovery');
export const resumeRecoveryUpdate = defineUpdate<RecoveryProgress>('resumeRecovery');
/** Answers once the recovery has stopped: nothing more is redelivered after the answer. */
export const cancelRecoveryUpdate = defineUpdate<RecoveryProgress>('cancelRecovery');

const PAGE = 100;
const HISTORY_LIMIT = 10_000;

/**
 * A bulk recovery, `recover:<id>` (docs/lifecycle.md): redelivers every delivery of a webhook
 * created in a window whose status is asked for (failed, by default), a page at a time. Each
 * redelivery is a new delivery of the same event (the same `webhook-id` for the receiver), which
 * the workers' starter sends like any other, within the webhook's throttle and order. The workflow
 * is the only writer of the recovery's state after the API created it; pause, resume and cancel
 * are updates that take effect between pages.
 */
export async function recoveryWorkflow(input: RecoveryWorkflowInput): Promise<RecoveryProgress> {
  const { countRecoverableDeliveries, redeliverRecoveryPage, recordRecoveryProgress } =
    proxyActivities<HeraldActivities>({
      startToCloseTimeout: '60s',
      retry: { initialInterval: '1s', maximumInterval: '30s' },
    });
  const state = input.state ?? { after: '', total: 0, redelivered: 0, paused: false, revision: 0 };
  let cancelled = false;
  let finished: RecoveryProgress | undefined;
  const stamped = (status: RecoveryProgress['status']): RecoveryProgress => ({
    recoveryId: input.scope.recoveryId,
    status,
    total: state.total,
    redelivered: state.redelivered,
    revision: ++state.revision,
  });
  const status = () => (cancelled ? 'cancelled' : state.paused ? 'paused' : 'running');
  const mirror = async () => {
    const p = stamped(status());
    await recordRecoveryProgress(p);
    return p;
  };
  const ifRunning = () => {
    if (finished) throw new Error(`the recovery is ${finished.status}`);
  };
  setHandler(
    pauseRecoveryUpdate,
    async () => {
      state.paused = true;
      return mirror();
    },
    { validator: ifRunning },
  );
  setHandler(
    resumeRecoveryUpdate,
    async () => {
      state.paused = false;
      return mirror();
    },
    { validator: ifRunning },
  );
  setHandler(
    cancelRecoveryUpdate,
    async () => {
      cancelled = true;
      await condition(() => finished !== undefined);
      return finished!;
    },
    { validator: ifRunning },
  );
  if (!input.state) state.total = await countRecoverableDeliveries(input.scope);

  while (!cancelled) {
    await condition(() => !state.paused || cancelled);
    if (cancelled) break;
    const page = await redeliverRecoveryPage({
      scope: input.scope,
      after: state.after,
      limit: PAGE,
      progress: stamped(status()),
    });
    if (page.last === null) break;
    state.redelivered += page.redelivered;
    state.after = page.last;
    if (workflowInfo().historyLength >= HISTORY_LIMIT || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof recoveryWorkflow>({ ...input, state });
    }
  }
  const final = stamped(cancelled ? 'cancelled' : 'completed');
  await recordRecoveryProgress(final);
  finished = final;
  await condition(allHandlersFinished);
  return final;
}
