import { createDeliveryActivities, type DeliveryActivityDeps } from './delivery';
import { createRetentionActivities } from './retention';
import { createSyncActivities } from './sync';

export type ActivityDeps = DeliveryActivityDeps;

/** Every activity the worker registers, built over injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDeliveryActivities(deps),
    ...createSyncActivities(deps),
    ...createRetentionActivities(deps),
  };
}

export type HeraldActivities = ReturnType<typeof createActivities>;
export type { AttemptSummary, SendInput } from './delivery';
