// The delivery log of one webhook, live from its server-sent events, and one delivery's attempts.
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  api,
  DELIVERY_STATUSES,
  type Delivery,
  type DeliveryDetail,
  type DeliveryNotice,
  streamDeliveries,
} from './api';
import { Badge, ErrorText, Link, pretty, Section, time, useAction } from './ui';

const SHOWN = 50;

/** What one streamed notice says of its delivery. */
function noticeFields(n: DeliveryNotice): Partial<Delivery> & Pick<Delivery, 'status' | 'attemptCount'> {
  if (n.event === 'delivery') {
    const { deliveryStatus, attemptCount, nextAttemptAt } = n.data;
    return { status: deliveryStatus, attemptCount, nextAttemptAt };
  }
  const { deliveryStatus, attemptNumber, outcome, responseStatus, durationMs, startedAt } = n.data;
  return {
    status: deliveryStatus,
    attemptCount: attemptNumber,
    lastAttempt: { outcome, responseStatus, durationMs, startedAt },
  };
}

/** Puts one streamed notice into the list: updates its delivery or adds it on top. */
function merge(rows: Delivery[], n: DeliveryNotice, filter: string): Delivery[] {
  const fields = noticeFields(n);
  const i = rows.findIndex((r) => r.id === n.data.deliveryId);
  if (i >= 0) return rows.map((r, j) => (j === i ? { ...r, ...fields } : r));
  if (filter && filter !== fields.status) return rows;
  const at = n.event === 'attempt' ? n.data.startedAt : n.data.createdAt;
  const row: Delivery = {
    id: n.data.deliveryId,
    webhookId: n.data.webhookId,
    eventId: n.data.eventId,
    eventType: n.data.eventType,
    nextAttemptAt: null,
    failureReason: null,
    createdAt: at,
    updatedAt: at,
    workflowUrl: n.event === 'attempt' ? n.data.workflowUrl : null,
    lastAttempt: null,
    ...fields,
  };
  return [row, ...rows].slice(0, SHOWN);
}

/** The row's summary: the last answer, its time, the attempts and when the next one is due. */
function lastAttemptText(d: Delivery): string {
  const parts: string[] = [];
  if (d.lastAttempt) {
    parts.push(
      d.lastAttempt.responseStatus === null
        ? `no answer (${d.lastAttempt.outcome})`
        : `HTTP ${d.lastAttempt.responseStatus}`,
      `${d.lastAttempt.durationMs} ms`,
    );
  }
  parts.push(`${d.attemptCount} ${d.attemptCount === 1 ? 'attempt' : 'attempts'}`);
  if (d.status === 'retrying' && d.nextAttemptAt) parts.push(`next ${time(d.nextAttemptAt)}`);
  return parts.join(' · ');
}

/** `onNotice` hears every streamed change (the charts and the webhook's status reload on it). */
export function DeliveryLog(props: {
  webhookId: string;
  selected?: string;
  onNotice?: (n: DeliveryNotice) => void;
}) {
  const { webhookId, selected } = props;
  // The stream outlives renders: it calls whichever onNotice the page gave last.
  const notify = useRef(props.onNotice);
  notify.current = props.onNotice;
  const [filter, setFilter] = useState('');
  const [rows, setRows] = useState<Delivery[] | null>(null);
  // Per delivery, its latest notice: the open delivery reloads when it changes.
  const [versions, setVersions] = useState<Record<string, string>>({});
  const [live, setLive] = useState<'connecting' | 'live' | 'offline'>('connecting');
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const stop = new AbortController();
    let refreshTimer: ReturnType<typeof setTimeout> | undefined;
    const refresh = async () => {
      try {
        const list = await api.deliveries(webhookId, filter);
        if (stop.signal.aborted) return;
        setRows(list.data);
        setError(null);
      } catch (err) {
        if (!stop.signal.aborted) setError(err);
      }
    };
    const onNotice = (n: DeliveryNotice) => {
      const version = n.event === 'attempt' ? n.data.attemptId : n.data.deliveryStatus;
      setVersions((v) => ({ ...v, [n.data.deliveryId]: version }));
      notify.current?.(n);
      setRows((r) => merge(r ?? [], n, filter));
      // The list call brings what an event lacks (the workflow link) and the filter's exact view.
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(refresh, 500);
    };
    (async () => {
      while (!stop.signal.aborted) {
        try {
          // Read the list once the stream is open, so nothing falls between the two.
          const onOpen = () => {
            setLive('live');
            refresh();
          };
          await streamDeliveries(webhookId, onNotice, onOpen, stop.signal);
        } catch (err) {
          if (stop.signal.aborted) return;
          if (err instanceof ApiError && [401, 403, 404].includes(err.status)) {
            setLive('offline');
            refresh();
            return;
          }
        }
        setLive('connecting');
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    return () => {
      stop.abort();
      clearTimeout(refreshTimer);
    };
  }, [webhookId, filter]);

  return (
    <div class={selected ? 'log-layout open' : 'log-layout'}>
      <Section title="Delivery log" id="log-title" class="card">
        <div class="row spread wrap-row">
          <div class="row">
            <label for="status-filter">Status</label>
            <select id="status-filter" value={filter} onChange={(e) => setFilter(e.currentTarget.value)}>
              <option value="">All</option>
              {DELIVERY_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <span role="status" class={`live live-${live}`}>
            {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Not live'}
          </span>
        </div>
        <ErrorText error={error} />
        {rows && rows.length === 0 && (
          <p class="muted">{filter ? `No ${filter} deliveries.` : 'No deliveries yet.'}</p>
        )}
        {rows && rows.length > 0 && (
          <ul class="log" aria-label="Deliveries, newest first">
            {rows.map((d) => (
              <li key={d.id}>
                <Link
                  href={`/webhooks/${webhookId}/deliveries/${d.id}`}
                  class="logrow"
                  aria-current={d.id === selected ? 'true' : undefined}
                >
                  <Badge status={d.status} />
                  <span class="mono event">{d.eventType}</span>
                  <span class="small muted">{time(d.createdAt)}</span>
                  <span class="small">{lastAttemptText(d)}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </Section>
      {selected && <DeliveryView id={selected} webhookId={webhookId} version={versions[selected]} />}
    </div>
  );
}

function Headers({ headers, label }: { headers: Record<string, string>; label: string }) {
  return (
    <dl class="headers" aria-label={label}>
      {Object.entries(headers).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** One delivery with every attempt; reloads when the stream reports a new attempt of it. */
function DeliveryView({ id, webhookId, version }: { id: string; webhookId: string; version?: string }) {
  const [delivery, setDelivery] = useState<DeliveryDetail | null>(null);
  const [redelivered, setRedelivered] = useState<Delivery | null>(null);
  const load = useAction();
  const redeliver = useAction();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    setRedelivered(null);
    heading.current?.focus();
  }, [id]);
  useEffect(() => {
    load.run(async () => setDelivery(await api.delivery(id)));
  }, [id, version]);

  const d = delivery?.id === id ? delivery : null;
  return (
    <section class="card detail" aria-labelledby="delivery-title">
      <div class="heading">
        <h2 id="delivery-title" tabIndex={-1} ref={heading}>
          Delivery {d ? d.eventType : ''}
        </h2>
        <Link href={`/webhooks/${webhookId}`}>Close</Link>
      </div>
      <ErrorText error={load.error} />
      {d && (
        <>
          <p class="small">
            <Badge status={d.status} /> <span class="mono">{d.id}</span> · event{' '}
            <span class="mono">{d.eventId}</span> · {time(d.createdAt)}
          </p>
          <div class="toolbar">
            <button
              type="button"
              onClick={async () => setRedelivered((await redeliver.run(() => api.redeliver(d.id))) ?? null)}
            >
              Redeliver
            </button>
            {d.workflowUrl && (
              <a href={d.workflowUrl} target="_blank" rel="noopener noreferrer">
                Workflow in Temporal
              </a>
            )}
          </div>
          <ErrorText error={redeliver.error} />
          {redelivered && (
            <p role="status">
              Redelivered as{' '}
              <Link href={`/webhooks/${webhookId}/deliveries/${redelivered.id}`} class="mono">
                {redelivered.id}
              </Link>
              .
            </p>
          )}
          <details>
            <summary>Payload</summary>
            <pre>{JSON.stringify(d.payload, null, 2)}</pre>
          </details>
          <h3>
            {d.attempts.length} {d.attempts.length === 1 ? 'attempt' : 'attempts'}
          </h3>
          {d.attempts.length === 0 && <p class="muted">No attempt yet.</p>}
          <ol class="attempts">
            {[...d.attempts].reverse().map((a, i) => (
              <li key={a.id} class="attempt">
                {/* The latest attempt is open; earlier ones open to their request and response. */}
                <details open={i === 0}>
                  <summary>
                    #{a.attemptNumber} <Badge status={a.outcome} /> {a.response ? a.response.status : ''}{' '}
                    <span class="small muted">
                      {time(a.startedAt)} · {a.durationMs} ms
                    </span>
                  </summary>
                  <div class="grid2">
                    <div>
                      <h5>Request</h5>
                      <p class="mono small wrap">
                        {a.request.method} {a.request.url}
                      </p>
                      <Headers
                        headers={a.request.headers}
                        label={`Request headers of attempt ${a.attemptNumber}`}
                      />
                      <pre>{pretty(a.request.body)}</pre>
                    </div>
                    <div>
                      <h5>Response</h5>
                      {a.response ? (
                        <>
                          <p class="mono small">{a.response.status}</p>
                          <Headers
                            headers={a.response.headers}
                            label={`Response headers of attempt ${a.attemptNumber}`}
                          />
                          <pre>
                            {a.response.bodyEncoding === 'base64'
                              ? `(not UTF-8; base64) ${a.response.body}`
                              : pretty(a.response.body) || '(empty)'}
                          </pre>
                        </>
                      ) : (
                        <p class="error">
                          {a.error ? `${a.error.kind}: ${a.error.message}` : 'No response recorded.'}
                        </p>
                      )}
                    </div>
                  </div>
                </details>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
