// The webhooks list and the create / edit form.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, type Webhook } from './api';
import { Badge, ErrorText, FieldError, Link, navigate, useAction } from './ui';
import { stashSecret } from './webhook-page';

export function WebhookList({ appId, admin }: { appId?: string; admin: boolean }) {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const { run, error } = useAction();
  useEffect(() => {
    setHooks(null);
    if (admin && !appId) return;
    run(async () => setHooks((await api.webhooks(appId)).data));
  }, [appId, admin]);

  return (
    <>
      <div class="heading">
        <h1 tabIndex={-1}>Webhooks</h1>
        {(!admin || appId) && (
          <Link href="/webhooks/new" class="button primary">
            New webhook
          </Link>
        )}
      </div>
      <ErrorText error={error} />
      {admin && !appId && <p>Pick an application above.</p>}
      {hooks && hooks.length === 0 && <p>No webhooks yet.</p>}
      {hooks && hooks.length > 0 && (
        <ul class="cards" aria-label="Webhooks">
          {hooks.map((w) => (
            <li key={w.id} class="card">
              <div class="row spread">
                <Link href={`/webhooks/${w.id}`} class="title">
                  {w.label || w.url}
                </Link>
                <Badge status={w.status} />
              </div>
              <p class="mono small wrap">
                {w.method} {w.url}
              </p>
              <p class="small muted">
                {w.events.length > 0 ? w.events.join(', ') : 'all events'}
                {w.disabledReason ? ` · ${w.disabledReason}` : ''}
              </p>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

interface HeaderRow {
  name: string;
  value: string;
}

const FIELDS = [
  'url',
  'label',
  'method',
  'events',
  'signature',
  'secret',
  'syncIntervalMs',
  'headers',
  'status',
  'maxRequestsPerSecond',
  'maxInFlight',
  'ordering',
];

/** An optional number field: empty is null (the application's default). */
const optionalNumber = (text: string) => (text.trim() === '' ? null : Number(text));

/** Create (no `id`; admins pass the application) or edit a webhook. */
export function WebhookForm({ id, appId }: { id?: string; appId?: string }) {
  const [catalog, setCatalog] = useState<string[]>([]);
  const [loaded, setLoaded] = useState<Webhook | null>(null);
  const [url, setUrl] = useState('');
  const [label, setLabel] = useState('');
  const [method, setMethod] = useState('POST');
  const [picked, setPicked] = useState<string[]>([]);
  const [patterns, setPatterns] = useState('');
  const [signature, setSignature] = useState('standard-webhooks');
  const [secret, setSecret] = useState('');
  const [interval, setIntervalMs] = useState('0');
  const [headers, setHeaders] = useState<HeaderRow[]>([]);
  const [status, setStatus] = useState('active');
  const [rate, setRate] = useState('');
  const [inFlight, setInFlight] = useState('');
  const [ordering, setOrdering] = useState('none');
  const load = useAction();
  const save = useAction();
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => {
    load.run(async () => {
      const types = (await api.eventTypes()).data.map((t) => t.type);
      setCatalog(types);
      if (!id) return;
      const w = await api.webhook(id);
      setLoaded(w);
      setUrl(w.url);
      setLabel(w.label);
      setMethod(w.method);
      setPicked(w.events.filter((e) => types.includes(e)));
      setPatterns(w.events.filter((e) => !types.includes(e)).join(', '));
      setSignature(w.signature);
      setIntervalMs(String(w.syncIntervalMs));
      setHeaders(Object.entries(w.headers).map(([name, value]) => ({ name, value })));
      setStatus(w.status);
      setRate(w.maxRequestsPerSecond === null ? '' : String(w.maxRequestsPerSecond));
      setInFlight(w.maxInFlight === null ? '' : String(w.maxInFlight));
      setOrdering(w.ordering);
    });
  }, [id]);

  const extra = patterns
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const events = [...picked, ...extra];
  const err = save.error instanceof ApiError ? save.error : null;
  const at = (field: string) => err?.at(`body.${field}`) ?? [];
  const eventErrors =
    err?.errors
      .filter((e) => e.path.startsWith('body.events'))
      .map((e) => {
        const index = Number(e.path.split('.')[2]);
        return Number.isNaN(index) ? e.message : `"${events[index]}": ${e.message}`;
      }) ?? [];
  const unmapped =
    save.error &&
    (!err || err.errors.length === 0 || err.errors.some((e) => !FIELDS.includes(e.path.split('.')[1])));
  const invalid = (field: string, messages = at(field)) =>
    messages.length > 0 ? { 'aria-invalid': true, 'aria-describedby': `${field}-error` } : {};

  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = {
      url: url.trim(),
      label,
      method,
      events,
      signature,
      syncIntervalMs: interval.trim() === '' ? 0 : Number(interval),
      headers: Object.fromEntries(headers.filter((h) => h.name.trim()).map((h) => [h.name.trim(), h.value])),
      maxRequestsPerSecond: optionalNumber(rate),
      maxInFlight: optionalNumber(inFlight),
      ordering,
    };
    const saved = await save.run(async () => {
      if (id) {
        if (status !== loaded?.status) body.status = status;
        return api.updateWebhook(id, body);
      }
      body.status = status;
      if (secret) body.secret = secret;
      if (appId) body.applicationId = appId;
      return api.createWebhook(body);
    });
    if (!saved) {
      // Take the keyboard to the first field the API refused.
      setTimeout(() => {
        const field = form.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
        (field?.matches('fieldset') ? field.querySelector<HTMLElement>('input, button') : field)?.focus();
      });
      return;
    }
    if (saved.secret) stashSecret(saved.id, saved.secret);
    navigate(`/webhooks/${saved.id}`);
  };

  const setHeader = (i: number, change: Partial<HeaderRow>) =>
    setHeaders(headers.map((h, j) => (i === j ? { ...h, ...change } : h)));

  return (
    <>
      <div class="heading">
        <h1 tabIndex={-1}>{id ? 'Edit webhook' : 'New webhook'}</h1>
        <Link href={id ? `/webhooks/${id}` : '/'}>Cancel</Link>
      </div>
      <ErrorText error={load.error} />
      {id && !loaded ? (
        !load.error && <p class="muted">Loading…</p>
      ) : (
        <form ref={form} class="card form" onSubmit={submit} noValidate aria-label="Webhook">
          <div class="field">
            <label for="url">Endpoint URL</label>
            <input
              id="url"
              type="url"
              inputMode="url"
              required
              placeholder="https://example.com/webhooks"
              value={url}
              onInput={(e) => setUrl(e.currentTarget.value)}
              {...invalid('url')}
            />
            <FieldError id="url-error" messages={at('url')} />
          </div>
          <div class="field">
            <label for="label">Label</label>
            <input
              id="label"
              value={label}
              onInput={(e) => setLabel(e.currentTarget.value)}
              {...invalid('label')}
            />
            <FieldError id="label-error" messages={at('label')} />
          </div>
          <div class="grid2">
            <div class="field">
              <label for="method">Method</label>
              <select
                id="method"
                value={method}
                onChange={(e) => setMethod(e.currentTarget.value)}
                {...invalid('method')}
              >
                <option value="POST">POST</option>
                <option value="GET">GET (payload in the query)</option>
              </select>
              <FieldError id="method-error" messages={at('method')} />
            </div>
            <div class="field">
              <label for="status">Status</label>
              <select
                id="status"
                value={status}
                onChange={(e) => setStatus(e.currentTarget.value)}
                {...invalid('status')}
              >
                <option value="active">Active</option>
                <option value="paused">Paused (deliveries are held)</option>
                {loaded?.status === 'disabled' && (
                  <option value="disabled" disabled>
                    Disabled
                  </option>
                )}
              </select>
              <FieldError id="status-error" messages={at('status')} />
            </div>
          </div>

          <fieldset {...invalid('events', eventErrors)}>
            <legend>Events</legend>
            <p class="hint">None picked and no pattern means every event.</p>
            <div class="checks">
              {catalog.map((type) => (
                <label key={type} class="check">
                  <input
                    type="checkbox"
                    checked={picked.includes(type)}
                    onChange={(e) =>
                      setPicked(
                        e.currentTarget.checked ? [...picked, type] : picked.filter((p) => p !== type),
                      )
                    }
                  />
                  <span class="mono">{type}</span>
                </label>
              ))}
            </div>
            <label for="patterns">Other types or patterns</label>
            <input
              id="patterns"
              class="mono"
              placeholder="person.*, *.deleted"
              value={patterns}
              onInput={(e) => setPatterns(e.currentTarget.value)}
              aria-describedby="patterns-hint"
            />
            <p class="hint" id="patterns-hint">
              Comma-separated: an exact type, "entity.*", "*.action" or "*".
            </p>
            <FieldError id="events-error" messages={eventErrors} />
          </fieldset>

          <div class="grid2">
            <div class="field">
              <label for="signature">Signature</label>
              <select
                id="signature"
                value={signature}
                onChange={(e) => setSignature(e.currentTarget.value)}
                {...invalid('signature')}
              >
                <option value="standard-webhooks">Standard Webhooks</option>
                <option value="hmac-sha256">HMAC-SHA256 of the body</option>
              </select>
              <FieldError id="signature-error" messages={at('signature')} />
            </div>
            <div class="field">
              <label for="interval">Sync interval (ms)</label>
              <input
                id="interval"
                type="number"
                inputMode="numeric"
                min={0}
                step={1}
                value={interval}
                onInput={(e) => setIntervalMs(e.currentTarget.value)}
                aria-describedby="interval-hint"
                {...invalid('syncIntervalMs')}
              />
              <p class="hint" id="interval-hint">
                Between requests of a full sync; 0 is as fast as Herald scales.
              </p>
              <FieldError id="syncIntervalMs-error" messages={at('syncIntervalMs')} />
            </div>
          </div>

          <fieldset>
            <legend>Throttle and order</legend>
            <div class="grid3">
              <div class="field">
                <label for="rate">Requests a second at most</label>
                <input
                  id="rate"
                  type="number"
                  inputMode="decimal"
                  min={0}
                  step="any"
                  placeholder="application default"
                  value={rate}
                  onInput={(e) => setRate(e.currentTarget.value)}
                  {...invalid('maxRequestsPerSecond')}
                />
                <FieldError id="maxRequestsPerSecond-error" messages={at('maxRequestsPerSecond')} />
              </div>
              <div class="field">
                <label for="in-flight">Requests at once at most</label>
                <input
                  id="in-flight"
                  type="number"
                  inputMode="numeric"
                  min={1}
                  step={1}
                  placeholder="application default"
                  value={inFlight}
                  onInput={(e) => setInFlight(e.currentTarget.value)}
                  {...invalid('maxInFlight')}
                />
                <FieldError id="maxInFlight-error" messages={at('maxInFlight')} />
              </div>
              <div class="field">
                <label for="ordering">Order</label>
                <select
                  id="ordering"
                  value={ordering}
                  onChange={(e) => setOrdering(e.currentTarget.value)}
                  aria-describedby="ordering-hint"
                  {...invalid('ordering')}
                >
                  <option value="none">None (fastest)</option>
                  <option value="strict">Strict (one at a time, in published order)</option>
                </select>
                <FieldError id="ordering-error" messages={at('ordering')} />
              </div>
            </div>
            <p class="hint" id="ordering-hint">
              Empty limits take the application's defaults. Strict order sends a delivery only after the
              previous one ended.
            </p>
          </fieldset>

          {!id && (
            <div class="field">
              <label for="secret">Signing key (optional)</label>
              <input
                id="secret"
                class="mono"
                autoComplete="off"
                value={secret}
                onInput={(e) => setSecret(e.currentTarget.value)}
                aria-describedby="secret-hint"
                {...invalid('secret')}
              />
              <p class="hint" id="secret-hint">
                Leave empty to generate one. It is shown once, after saving.
              </p>
              <FieldError id="secret-error" messages={at('secret')} />
            </div>
          )}

          <fieldset {...invalid('headers')}>
            <legend>Custom headers</legend>
            {headers.map((h, i) => (
              <div class="row header-row" key={i}>
                <input
                  aria-label={`Header ${i + 1} name`}
                  placeholder="Name"
                  class="mono"
                  value={h.name}
                  onInput={(e) => setHeader(i, { name: e.currentTarget.value })}
                />
                <input
                  aria-label={`Header ${i + 1} value`}
                  placeholder="Value"
                  class="mono grow"
                  value={h.value}
                  onInput={(e) => setHeader(i, { value: e.currentTarget.value })}
                />
                <button
                  type="button"
                  aria-label={`Remove header ${i + 1}`}
                  onClick={() => setHeaders(headers.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </div>
            ))}
            <button type="button" onClick={() => setHeaders([...headers, { name: '', value: '' }])}>
              Add header
            </button>
            <FieldError id="headers-error" messages={at('headers')} />
          </fieldset>

          <div class="actions">
            <button type="submit" class="primary">
              {id ? 'Save changes' : 'Create webhook'}
            </button>
            {unmapped ? (
              <ErrorText error={save.error} />
            ) : (
              save.error && (
                <p class="error" role="alert">
                  Fix the fields marked above.
                </p>
              )
            )}
          </div>
        </form>
      )}
    </>
  );
}
