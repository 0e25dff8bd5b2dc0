import { inTransaction, type Pool } from '../src/db/pool';
import { getApplication } from '../src/db/queries/applications';
import { cancelUnsentSyncDeliveries as cancelUnsent } from '../src/db/queries/deliveries';
import {
  countVisibleEntities,
  type SyncCursor,
  type SyncProgress,
  saveSyncProgress,
  writeSyncPage,
} from '../src/db/queries/syncs';
import type { Metrics } from '../src/metrics';

export type { SyncCursor, SyncProgress } from '../src/db/queries/syncs';

export interface SyncActivityDeps {
  pool: Pool;
  metrics: Metrics;
}

export interface SyncScope {
  syncId: string;
  webhookId: string;
  applicationId: string;
  /** Requested entity types; empty means every type the application may see. */
  entityTypes: string[];
}

/** What the sync workflow needs from the database: counting, paging and mirroring progress. */
export function createSyncActivities(deps: SyncActivityDeps) {
  /** The application's access narrows the requested types; `*` in its access lets every type through. */
  async function filterFor(scope: SyncScope) {
    const app = await getApplication(deps.pool, scope.applicationId);
    if (!app) return undefined;
    const allTypes = app.access.entityTypes.includes('*');
    const entityTypes =
      scope.entityTypes.length > 0
        ? scope.entityTypes.filter((t) => allTypes || app.access.entityTypes.includes(t))
        : allTypes
          ? []
          : app.access.entityTypes;
    // Requested types the application may not see leave nothing to send, not everything.
    if (scope.entityTypes.length > 0 && entityTypes.length === 0) return undefined;
    return { entityTypes, scopes: app.access.scopes };
  }

  async function countSyncEntities(scope: SyncScope): Promise<number> {
    const filter = await filterFor(scope);
    return filter ? countVisibleEntities(deps.pool, filter) : 0;
  }

  /** Writes the next page's events and deliveries and mirrors the progress so far, in one transaction. */
  async function prepareSyncPage(input: {
    scope: SyncScope;
    after: SyncCursor | null;
    firstIndex: number;
    limit: number;
    progress: SyncProgress;
  }): Promise<{ deliveryIds: string[]; last: SyncCursor | null }> {
    const filter = await filterFor(input.scope);
    return inTransaction(deps.pool, async (client) => {
      await saveSyncProgress(client, input.progress);
      if (!filter) return { deliveryIds: [], last: null };
      return writeSyncPage(client, {
        ...input.scope,
        filter,
        after: input.after,
        firstIndex: input.firstIndex,
        total: input.progress.total ?? 0,
        limit: input.limit,
      });
    });
  }

  async function recordSyncProgress(progress: SyncProgress): Promise<void> {
    await saveSyncProgress(deps.pool, progress);
  }

  /** A cancelled sync: the deliveries it wrote and has not sent end as cancelled. */
  async function cancelUnsentSyncDeliveries(input: { syncId: string }): Promise<number> {
    return cancelUnsent(deps.pool, input.syncId);
  }

  return { countSyncEntities, prepareSyncPage, recordSyncProgress, cancelUnsentSyncDeliveries };
}
