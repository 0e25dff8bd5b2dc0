import { inTransaction, type Pool } from '../src/db/pool';
import {
  countRecoverable,
  type RecoveryProgress,
  type RecoveryScope,
  redeliverPage,
  saveRecoveryProgress,
} from '../src/db/queries/recoveries';
import { classified } from './delivery';

export type { RecoveryProgress, RecoveryScope } from '../src/db/queries/recoveries';

export interface RecoveryActivityDeps {
  pool: Pool;
}

/** What the recovery workflow needs from the database: counting, redelivering page by page, mirroring progress. */
export function createRecoveryActivities(deps: RecoveryActivityDeps) {
  async function countRecoverableDeliveries(scope: RecoveryScope): Promise<number> {
    return classified(() => countRecoverable(deps.pool, scope));
  }

  /** The next page's redeliveries and the progress so far, in one transaction. */
  async function redeliverRecoveryPage(input: {
    scope: RecoveryScope;
    after: string;
    limit: number;
    progress: RecoveryProgress;
  }): Promise<{ redelivered: number; last: string | null }> {
    return classified(() =>
      inTransaction(deps.pool, async (client) => {
        await saveRecoveryProgress(client, input.progress);
        return redeliverPage(client, input.scope, input.after, input.limit);
      }),
    );
  }

  async function recordRecoveryProgress(progress: RecoveryProgress): Promise<void> {
    await classified(() => saveRecoveryProgress(deps.pool, progress));
  }

  return { countRecoverableDeliveries, redeliverRecoveryPage, recordRecoveryProgress };
}
