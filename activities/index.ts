import { createDeliveryActivities, type DeliveryActivityDeps } from './delivery';
import { createRecoveryActivities } from './recovery';
import { createReleaseActivities } from './release';
import { createRetentionActivities } from './retention';
import { createSyncActivities } from './sync';

export type ActivityDeps = DeliveryActivityDeps;

/** Every activity the worker registers, built over injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDeliveryActivities(deps),
    ...createReleaseActivities(deps),
    ...createRecoveryActivities(deps),
    ...createSyncActivities(deps),
    ...createRetentionActivities(deps),
  };
}

export type HeraldActivities = ReturnType<typeof createActivities>;
export type { AttemptSummary } from './attempt';
export type { SendInput, SyncOutcome } from './delivery';
export type { ReleaseBatch, ReleaseOutcome } from './release';
