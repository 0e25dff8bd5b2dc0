// Bulk recovery on the webhook page: redeliver the failed deliveries of a recent window, as one
// recovery workflow whose progress the bar follows until it finishes.
import { useEffect, useState } from 'preact/hooks';
import { api, type Recovery } from './api';
import { Badge, ErrorText, Section, useAction, useFollow, WorkflowControls } from './ui';

const SINCE = [
  { label: 'the last hour', ms: 3_600_000 },
  { label: 'the last day', ms: 86_400_000 },
  { label: 'the last week', ms: 7 * 86_400_000 },
];
const ACTIVE: Recovery['status'][] = ['running', 'paused'];

export function RecoveryPanel({ webhookId }: { webhookId: string }) {
  const [recovery, setRecovery] = useState<Recovery | null>(null);
  const [sinceMs, setSinceMs] = useState(SINCE[1].ms);
  const start = useAction();
  const control = useAction();

  useEffect(() => {
    api
      .latestRecovery(webhookId)
      .then((r) => r && setRecovery(r))
      .catch(() => {});
  }, [webhookId]);
  const active = !!recovery && ACTIVE.includes(recovery.status);
  useFollow(recovery, active, () => api.recovery(recovery!.id), setRecovery);

  const begin = async (e: Event) => {
    e.preventDefault();
    const since = new Date(Date.now() - sinceMs).toISOString();
    const started = await start.run(() => api.startRecovery(webhookId, since));
    if (started) setRecovery(started);
  };
  const signal = async (what: 'pause' | 'resume' | 'cancel') => {
    const next = await control.run(() => api.recoveryAction(recovery!.id, what));
    if (next) setRecovery(next);
  };

  const total = recovery?.total ?? null;
  const redelivered = recovery?.redelivered ?? 0;
  return (
    <Section title="Recover failed deliveries" id="recovery-title" class="card">
      <form class="row wrap-row" onSubmit={begin}>
        <label for="recovery-since">Failed in</label>
        <select
          id="recovery-since"
          value={sinceMs}
          onChange={(e) => setSinceMs(Number(e.currentTarget.value))}
          aria-describedby={start.error ? 'recovery-error' : undefined}
        >
          {SINCE.map((s) => (
            <option key={s.ms} value={s.ms}>
              {s.label}
            </option>
          ))}
        </select>
        <button type="submit" disabled={active}>
          Recover failed deliveries
        </button>
      </form>
      <ErrorText error={start.error} id="recovery-error" />
      {recovery && (
        <div class="sync">
          <div class="row spread">
            <span>
              <Badge status={recovery.status} /> <span class="mono small">{recovery.id}</span>
            </span>
            <a href={recovery.workflowUrl} target="_blank" rel="noopener noreferrer">
              Recovery workflow in Temporal
            </a>
          </div>
          <label for="recovery-progress" class="small">
            {total === null
              ? `${redelivered} redelivered, counting the failed deliveries…`
              : `${redelivered} of ${total} redelivered`}
          </label>
          <progress
            id="recovery-progress"
            max={total || 1}
            value={total ? redelivered : recovery.status === 'completed' ? 1 : 0}
          />
          {active && (
            <WorkflowControls noun="recovery" paused={recovery.status === 'paused'} onSignal={signal} />
          )}
          <ErrorText error={control.error} />
        </div>
      )}
    </Section>
  );
}
