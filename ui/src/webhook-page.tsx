// One webhook: its actions (pause, resume, Run Test, rotate, edit, delete), Sync Data, recovery,
// the charts and the log.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, type DeliveryNotice, type Sync, type TestResult, type Webhook } from './api';
import { DeliveryLog } from './deliveries';
import { RecoveryPanel } from './recovery';
import { StatsPanel } from './stats';
import {
  Badge,
  ErrorText,
  Link,
  navigate,
  pretty,
  SecretNotice,
  Section,
  useAction,
  useFollow,
  WorkflowControls,
} from './ui';

// A secret returned by create travels to the webhook page in memory, never through history or storage.
let stashed: { id: string; secret: string } | null = null;
export function stashSecret(id: string, secret: string): void {
  stashed = { id, secret };
}
function takeSecret(id: string): string {
  const secret = stashed?.id === id ? stashed.secret : '';
  stashed = null;
  return secret;
}

export function WebhookPage({ id, deliveryId }: { id: string; deliveryId?: string }) {
  const [hook, setHook] = useState<Webhook | null>(null);
  const [secret, setSecret] = useState(() => takeSecret(id));
  const [test, setTest] = useState<TestResult | null>(null);
  const [confirming, setConfirming] = useState(false);
  const load = useAction();
  const act = useAction();
  const runTest = useAction();
  const remove = useAction();
  const [failed, setFailed] = useState('');
  // Counts the log's live notices: the charts redraw after them.
  const [changes, setChanges] = useState(0);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    load.run(async () => setHook(await api.webhook(id)));
  }, [id]);
  // Before the next paint, so a key pressed right after the confirmation appears goes to it.
  useLayoutEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  const onNotice = (n: DeliveryNotice) => {
    setChanges((c) => c + 1);
    // A delivery that failed for the receiver's fault, or was held after a 410 Gone, may have
    // disabled the webhook with it.
    const disabling = n.event === 'delivery' && ['failed', 'held'].includes(n.data.deliveryStatus);
    if (disabling && hook?.status === 'active') api.webhook(id).then(setHook, () => {});
  };

  const action = (name: string, fn: () => Promise<Webhook>) => async () => {
    setFailed(name);
    const updated = await act.run(fn);
    if (updated) {
      if (updated.secret) setSecret(updated.secret);
      setHook(updated);
    }
  };

  return (
    <>
      <div class="heading start">
        <h1 tabIndex={-1}>{hook ? hook.label || 'Webhook' : 'Webhook'}</h1>
        {hook && <Badge status={hook.status} />}
      </div>
      <ErrorText error={load.error} />
      {hook && (
        <>
          <p class="mono wrap">
            {hook.method} {hook.url}
          </p>
          <p class="small muted">
            <span class="mono">{hook.id}</span> · events:{' '}
            {hook.events.length > 0 ? hook.events.join(', ') : 'all'} · sync interval {hook.syncIntervalMs} ms
          </p>
          {hook.disabledReason && <p class="error">Disabled: {hook.disabledReason}</p>}
          {secret && <SecretNotice name="Signing secret" secret={secret} onDismiss={() => setSecret('')} />}

          <div class="toolbar">
            {hook.status === 'active' ? (
              <button type="button" onClick={action('Pause', () => api.webhookAction(id, 'pause'))}>
                Pause
              </button>
            ) : (
              <button type="button" onClick={action('Resume', () => api.webhookAction(id, 'resume'))}>
                Resume
              </button>
            )}
            <button
              type="button"
              class="primary"
              onClick={async () => setTest((await runTest.run(() => api.test(id))) ?? null)}
            >
              {runTest.busy ? 'Testing…' : 'Run test'}
            </button>
            <button
              type="button"
              onClick={action('Rotate secret', () => api.webhookAction(id, 'rotate-secret'))}
            >
              Rotate secret
            </button>
            <Link href={`/webhooks/${id}/edit`} class="button">
              Edit
            </Link>
            <button ref={deleteButton} type="button" class="danger" onClick={() => setConfirming(true)}>
              Delete
            </button>
          </div>
          <ErrorText error={act.error} prefix={`${failed} failed:`} />
          <ErrorText error={runTest.error} />

          {confirming && (
            <div class="card confirm">
              <p id="confirm-text">
                Delete this webhook? Its held and retrying deliveries are cancelled. This cannot be undone.
              </p>
              <div class="row">
                <button
                  ref={confirmButton}
                  aria-describedby="confirm-text"
                  type="button"
                  class="danger"
                  onClick={async () => {
                    const deleted = await remove.run(async () => {
                      await api.deleteWebhook(id);
                      return true;
                    });
                    if (deleted) navigate('/');
                  }}
                >
                  Delete webhook
                </button>
                <button
                  type="button"
                  onClick={() => {
                    setConfirming(false);
                    deleteButton.current?.focus();
                  }}
                >
                  Keep it
                </button>
              </div>
              <ErrorText error={remove.error} />
            </div>
          )}

          {test && <TestPanel webhookId={id} result={test} />}
          <SyncPanel webhookId={id} />
          <RecoveryPanel webhookId={id} />
          <StatsPanel webhookId={id} version={changes} />
          <DeliveryLog webhookId={id} selected={deliveryId} onNotice={onNotice} />
        </>
      )}
    </>
  );
}

function TestPanel({ webhookId, result }: { webhookId: string; result: TestResult }) {
  return (
    <Section title="Test result" id="test-title" class="card">
      <p role="status">
        <Badge status={result.outcome} />{' '}
        <strong>{result.responseStatus ?? result.error?.kind ?? 'no answer'}</strong> in {result.durationMs}{' '}
        ms
        {' · '}
        <Link href={`/webhooks/${webhookId}/deliveries/${result.deliveryId}`}>open the delivery</Link>
      </p>
      {result.error && <p class="error">{result.error.message}</p>}
      {result.responseBody != null && (
        <>
          <h3>Response body</h3>
          <pre>{pretty(result.responseBody) || '(empty)'}</pre>
        </>
      )}
    </Section>
  );
}

const LIVE: Sync['status'][] = ['running', 'paused', 'waiting'];

function SyncPanel({ webhookId }: { webhookId: string }) {
  const [sync, setSync] = useState<Sync | null>(null);
  const [types, setTypes] = useState('');
  const start = useAction();
  const control = useAction();
  // The last 10 s of progress of this sync, for the rate.
  const samples = useRef<{ id: string; t: number; n: number }[]>([]);
  const show = (next: Sync) => {
    const now = Date.now();
    const recent = samples.current.filter((s) => s.id === next.id && now - s.t < 10_000);
    samples.current = [...recent, { id: next.id, t: now, n: next.sent + next.failed }];
    setSync(next);
  };

  useEffect(() => {
    api
      .latestSync(webhookId)
      .then((s) => s && show(s))
      .catch(() => {});
  }, [webhookId]);

  useFollow(sync, !!sync && LIVE.includes(sync.status), () => api.sync(sync!.id), show);

  const begin = async (e: Event) => {
    e.preventDefault();
    const entityTypes = types
      .split(/[\s,]+/)
      .map((t) => t.trim())
      .filter(Boolean);
    const started = await start.run(() =>
      api.startSync(webhookId, entityTypes.length ? entityTypes : undefined),
    );
    if (started) show(started);
  };
  const signal = async (what: 'pause' | 'resume' | 'cancel') => {
    const next = await control.run(() => api.syncAction(sync!.id, what));
    if (next) show(next);
  };

  const done = sync ? sync.sent + sync.failed : 0;
  const total = sync?.total ?? null;
  const percent = total ? Math.floor((done / total) * 100) : sync?.status === 'completed' ? 100 : 0;
  let rate = 0;
  if (sync && !LIVE.includes(sync.status) && sync.finishedAt) {
    const seconds = (Date.parse(sync.finishedAt) - Date.parse(sync.createdAt)) / 1000;
    rate = seconds > 0 ? done / seconds : 0;
  } else if (samples.current.length > 1) {
    const first = samples.current[0];
    const last = samples.current[samples.current.length - 1];
    rate = last.t > first.t ? ((last.n - first.n) * 1000) / (last.t - first.t) : 0;
  }
  const live = sync && LIVE.includes(sync.status);

  return (
    <Section title="Sync data" id="sync-title" class="card">
      <form class="row wrap-row" onSubmit={begin}>
        <label for="sync-types">Entity types</label>
        <input
          id="sync-types"
          class="grow mono"
          placeholder="all it may see"
          value={types}
          onInput={(e) => setTypes(e.currentTarget.value)}
          aria-describedby={start.error ? 'sync-error' : undefined}
        />
        <button type="submit" disabled={!!live}>
          Sync data
        </button>
      </form>
      <ErrorText error={start.error} id="sync-error" />
      {sync && (
        <div class="sync">
          <div class="row spread">
            <span>
              <Badge status={sync.status} /> <span class="mono small">{sync.id}</span>
            </span>
            <a href={sync.workflowUrl} target="_blank" rel="noopener noreferrer">
              Workflow in Temporal
            </a>
          </div>
          <progress
            id="sync-progress"
            max={total || 1}
            value={total ? done : percent / 100}
            aria-label="Sync progress"
          />
          <p class="small">
            <strong>{percent}%</strong> · {sync.sent} sent · {sync.failed} failed · {total ?? 'counting'}{' '}
            total · {rate.toFixed(1)}/s
            {sync.status === 'waiting' && ' · waiting for the webhook to be active'}
          </p>
          {live && <WorkflowControls noun="sync" paused={sync.status === 'paused'} onSignal={signal} />}
          <ErrorText error={control.error} />
        </div>
      )}
    </Section>
  );
}
