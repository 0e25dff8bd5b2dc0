// The admin's own pages: applications (create, rename, access), their keys (create with scopes and
// subject, the token shown once, revoke), publisher keys, the latest events and the entity browser.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  type Application,
  api,
  type Entity,
  type HeraldEvent,
  KEY_SCOPES,
  type Key,
  type KeyScope,
  PUBLISHER_SCOPES,
  type PublisherKey,
  type PublisherScope,
} from './api';
import { Badge, ErrorText, FieldError, Link, navigate, SecretNotice, Section, time, useAction } from './ui';

const list = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);

/** A field whose API errors (`body.<path>`) show beneath it and mark it invalid. */
function Field(props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  error: unknown;
  path: string;
  hint?: string;
  mono?: boolean;
}) {
  const messages = props.error instanceof ApiError ? props.error.at(`body.${props.path}`) : [];
  const describedBy = [props.hint && `${props.id}-hint`, messages.length > 0 && `${props.id}-error`]
    .filter(Boolean)
    .join(' ');
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        class={props.mono ? 'mono' : undefined}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        aria-invalid={messages.length > 0 ? true : undefined}
        aria-describedby={describedBy || undefined}
      />
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      <FieldError id={`${props.id}-error`} messages={messages} />
    </div>
  );
}

/** Name and access of an application: creates one, or edits `app`. */
function ApplicationForm({ app, onSaved }: { app?: Application; onSaved: (a: Application) => void }) {
  const [name, setName] = useState(app?.name ?? '');
  const [entityTypes, setEntityTypes] = useState(app?.access.entityTypes.join(', ') ?? '*');
  const [scopes, setScopes] = useState(app?.access.scopes.join(', ') ?? '');
  const save = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = { name, access: { entityTypes: list(entityTypes), scopes: list(scopes) } };
    const saved = await save.run(() =>
      app ? api.updateApplication(app.id, body) : api.createApplication(body),
    );
    if (saved) onSaved(saved);
  };
  return (
    <form class="card form" onSubmit={submit} noValidate aria-label={app ? 'Application' : 'New application'}>
      <Field id="app-name" label="Name" value={name} onInput={setName} error={save.error} path="name" />
      <Field
        id="app-entity-types"
        label="Entity types it may see"
        value={entityTypes}
        onInput={setEntityTypes}
        error={save.error}
        path="access.entityTypes"
        hint='Comma-separated, e.g. "person, booking"; "*" for every type.'
        mono
      />
      <Field
        id="app-scopes"
        label="Scopes it may see"
        value={scopes}
        onInput={setScopes}
        error={save.error}
        path="access.scopes"
        hint='Comma-separated, e.g. "org:1"; "*" for every scope.'
        mono
      />
      <div class="actions">
        <button type="submit" class="primary">
          {app ? 'Save application' : 'Create application'}
        </button>
        {save.error && !(save.error instanceof ApiError && save.error.errors.length > 0) && (
          <ErrorText error={save.error} />
        )}
      </div>
    </form>
  );
}

export function ApplicationsPage() {
  const [apps, setApps] = useState<Application[] | null>(null);
  const load = useAction();
  useEffect(() => {
    load.run(async () => setApps((await api.applications()).data));
  }, []);
  return (
    <>
      <div class="heading">
        <h1 tabIndex={-1}>Applications</h1>
      </div>
      <ErrorText error={load.error} />
      {apps && apps.length === 0 && <p>No applications yet.</p>}
      {apps && apps.length > 0 && (
        <ul class="cards" aria-label="Applications">
          {apps.map((a) => (
            <li key={a.id} class="card">
              <Link href={`/admin/applications/${a.id}`} class="title">
                {a.name}
              </Link>
              <p class="small muted">
                <span class="mono">{a.id}</span> · types {a.access.entityTypes.join(', ')} · scopes{' '}
                {a.access.scopes.join(', ')}
              </p>
            </li>
          ))}
        </ul>
      )}
      <Section title="New application" id="new-app-title">
        <ApplicationForm onSaved={(a) => navigate(`/admin/applications/${a.id}`)} />
      </Section>
    </>
  );
}

export function ApplicationPage({ id }: { id: string }) {
  const [app, setApp] = useState<Application | null>(null);
  const [saved, setSaved] = useState(false);
  const load = useAction();
  useEffect(() => {
    load.run(async () => setApp(await api.application(id)));
  }, [id]);
  return (
    <>
      <div class="heading">
        <h1 tabIndex={-1}>{app ? app.name : 'Application'}</h1>
        <Link href="/admin/applications">All applications</Link>
      </div>
      <ErrorText error={load.error} />
      {app && (
        <>
          <p class="small muted mono">{app.id}</p>
          <Section title="Name and access" id="app-edit-title">
            <ApplicationForm
              key={app.updatedAt}
              app={app}
              onSaved={(a) => {
                setApp(a);
                setSaved(true);
              }}
            />
            {saved && (
              <p role="status" class="small">
                Saved.
              </p>
            )}
          </Section>
          <KeysPanel appId={app.id} />
        </>
      )}
    </>
  );
}

/** A key as both key lists show it: application keys and publisher keys. */
interface ListedKey {
  id: string;
  name: string;
  tokenHint: string;
  scopes: string[];
  createdAt: string;
}

/** A list of keys, each revoked after a confirmation; the keyboard follows the confirmation. */
function KeyList<K extends ListedKey>(props: {
  keys: K[] | null;
  label: string;
  /** What a key has beyond its scopes and time (an application key's subject). */
  detail?: (k: K) => string;
  revoke: (k: K) => Promise<void>;
  /** The field the keyboard goes to after a revoke. */
  focusAfter: string;
}) {
  const [confirming, setConfirming] = useState('');
  const [revoked, setRevoked] = useState('');
  const confirmButton = useRef<HTMLButtonElement>(null);
  const revoke = useAction();
  // To the confirmation's button, and back to Revoke when kept; before the next paint, so a key
  // pressed right after the confirmation appears goes to it.
  const lastConfirming = useRef('');
  useLayoutEffect(() => {
    if (confirming) confirmButton.current?.focus();
    else if (lastConfirming.current) document.getElementById(`revoke-${lastConfirming.current}`)?.focus();
    lastConfirming.current = confirming;
  }, [confirming]);
  const { keys } = props;
  return (
    <>
      {keys && keys.length === 0 && <p class="muted">No keys yet.</p>}
      {keys && keys.length > 0 && (
        <ul class="keys" aria-label={props.label}>
          {keys.map((k) => (
            <li key={k.id} class="row spread wrap-row">
              <span>
                <strong>{k.name}</strong> <span class="mono small">{k.tokenHint}</span>
                <span class="small muted">
                  {' '}
                  · {k.scopes.join(', ')}
                  {props.detail?.(k) ?? ''} · {time(k.createdAt)}
                </span>
              </span>
              {confirming === k.id ? (
                <span class="row">
                  <button
                    type="button"
                    class="danger"
                    ref={confirmButton}
                    onClick={async () => {
                      const done = await revoke.run(async () => {
                        await props.revoke(k);
                        return true;
                      });
                      lastConfirming.current = '';
                      setConfirming('');
                      if (!done) return;
                      setRevoked(k.name);
                      document.getElementById(props.focusAfter)?.focus();
                    }}
                  >
                    Revoke {k.name} now
                  </button>
                  <button type="button" onClick={() => setConfirming('')}>
                    Keep it
                  </button>
                </span>
              ) : (
                <button
                  type="button"
                  id={`revoke-${k.id}`}
                  onClick={() => {
                    setRevoked('');
                    setConfirming(k.id);
                  }}
                  aria-label={`Revoke key ${k.name}`}
                >
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <ErrorText error={revoke.error} />
      {revoked && (
        <p role="status" class="small">
          Revoked {revoked}: its token no longer works.
        </p>
      )}
    </>
  );
}

/** The scopes of a new key, one checkbox each; their API errors beneath. */
function ScopeChecks<S extends string>(props: {
  id: string;
  all: readonly S[];
  value: S[];
  onChange: (scopes: S[]) => void;
  error: unknown;
}) {
  const errors = props.error instanceof ApiError ? props.error.at('body.scopes') : [];
  return (
    <fieldset
      aria-invalid={errors.length > 0 ? true : undefined}
      aria-describedby={errors.length > 0 ? `${props.id}-error` : undefined}
    >
      <legend>Scopes</legend>
      <div class="checks">
        {props.all.map((scope) => (
          <label key={scope} class="check">
            <input
              type="checkbox"
              checked={props.value.includes(scope)}
              onChange={(e) =>
                props.onChange(
                  e.currentTarget.checked ? [...props.value, scope] : props.value.filter((s) => s !== scope),
                )
              }
            />
            <span class="mono">{scope}</span>
          </label>
        ))}
      </div>
      <FieldError id={`${props.id}-error`} messages={errors} />
    </fieldset>
  );
}

/** Submit of a key form, and the error no field shows. */
function FormActions({ label, error }: { label: string; error: unknown }) {
  return (
    <div class="actions">
      <button type="submit" class="primary">
        {label}
      </button>
      {error && !(error instanceof ApiError && error.errors.length > 0) && <ErrorText error={error} />}
    </div>
  );
}

/**
 * A card of keys: the list (each revocable), a new key's token shown once, and the form that makes
 * one: its name, its scopes, and any fields of its own (`fields`, whose values `body` adds).
 */
function KeysCard<K extends ListedKey, S extends string>(props: {
  /** What a key is called, in lower case ("key", "publisher key"); labels and ids come from it. */
  noun: string;
  allScopes: readonly S[];
  initialScopes: S[];
  load: () => Promise<K[]>;
  create: (body: Record<string, unknown>) => Promise<{ token: string }>;
  revoke: (key: K) => Promise<void>;
  detail?: (key: K) => string;
  fields?: (error: unknown) => preact.JSX.Element;
  body?: () => Record<string, unknown>;
}) {
  const Noun = props.noun[0].toUpperCase() + props.noun.slice(1);
  const id = props.noun.replace(/ /g, '-');
  const [keys, setKeys] = useState<K[] | null>(null);
  const [token, setToken] = useState('');
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<S[]>(props.initialScopes);
  const load = useAction();
  const create = useAction();
  const reload = () => load.run(async () => setKeys(await props.load()));
  useEffect(() => {
    reload();
  }, [props.load]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const created = await create.run(() => props.create({ name, scopes, ...props.body?.() }));
    if (!created) return;
    setToken(created.token);
    setName('');
    reload();
  };

  return (
    <Section title="Keys" id={`${id}s-title`} class="card">
      {token && <SecretNotice name={`${Noun} token`} secret={token} onDismiss={() => setToken('')} />}
      <ErrorText error={load.error} />
      <KeyList
        keys={keys}
        label={`${Noun}s`}
        detail={props.detail}
        revoke={async (k) => {
          await props.revoke(k);
          reload();
        }}
        focusAfter={`${id}-name`}
      />
      <form class="form" onSubmit={submit} noValidate aria-label={`New ${props.noun}`}>
        <h3>New {props.noun}</h3>
        <Field
          id={`${id}-name`}
          label="Key name"
          value={name}
          onInput={setName}
          error={create.error}
          path="name"
        />
        <ScopeChecks
          id={`${id}-scopes`}
          all={props.allScopes}
          value={scopes}
          onChange={setScopes}
          error={create.error}
        />
        {props.fields?.(create.error)}
        <FormActions label={`Create ${props.noun}`} error={create.error} />
      </form>
    </Section>
  );
}

/** An application's keys, each optionally for one entity (its subject). */
function KeysPanel({ appId }: { appId: string }) {
  const [subjectType, setSubjectType] = useState('');
  const [subjectId, setSubjectId] = useState('');
  const load = useCallback(async () => (await api.keys(appId)).data, [appId]);
  return (
    <KeysCard<Key, KeyScope>
      noun="key"
      allScopes={KEY_SCOPES}
      initialScopes={[...KEY_SCOPES]}
      load={load}
      create={(body) => api.createKey(appId, body)}
      revoke={(k) => api.revokeKey(appId, k.id)}
      detail={(k) => (k.subject ? ` · subject ${k.subject.type}/${k.subject.id}` : '')}
      body={() => (subjectType || subjectId ? { subject: { type: subjectType, id: subjectId } } : {})}
      fields={(error) => (
        <fieldset>
          <legend>Subject (optional)</legend>
          <p class="hint">A key for one entity: it sees only deliveries about that entity.</p>
          <div class="grid2">
            <Field
              id="key-subject-type"
              label="Entity type"
              value={subjectType}
              onInput={setSubjectType}
              error={error}
              path="subject.type"
              mono
            />
            <Field
              id="key-subject-id"
              label="Entity id"
              value={subjectId}
              onInput={setSubjectId}
              error={error}
              path="subject.id"
              mono
            />
          </div>
        </fieldset>
      )}
    />
  );
}

const loadPublisherKeys = async () => (await api.publisherKeys()).data;

/** The host system's keys: they publish events and write entities, and belong to no application. */
export function PublisherKeysPage() {
  return (
    <>
      <div class="heading">
        <h1 tabIndex={-1}>Publisher keys</h1>
      </div>
      <p class="muted">Keys of the host system: they publish events and write entities.</p>
      <KeysCard<PublisherKey, PublisherScope>
        noun="publisher key"
        allScopes={PUBLISHER_SCOPES}
        initialScopes={['events:publish']}
        load={loadPublisherKeys}
        create={(body) => api.createPublisherKey(body)}
        revoke={(k) => api.revokePublisherKey(k.id)}
      />
    </>
  );
}

/** The latest events with their fan-out, by type or entity, a page at a time. */
export function EventsPage() {
  const [type, setType] = useState('');
  const [entityType, setEntityType] = useState('');
  const [entityId, setEntityId] = useState('');
  const [filter, setFilter] = useState({ type: '', entityType: '', entityId: '' });
  const [events, setEvents] = useState<HeraldEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const load = useAction();
  const fetchPage = async (f: typeof filter, after?: string) => {
    const result = await load.run(() => api.events({ ...f, cursor: after }));
    if (!result) return;
    setEvents((shown) => (after && shown ? [...shown, ...result.data] : result.data));
    setCursor(result.nextCursor);
  };
  useEffect(() => {
    fetchPage(filter);
  }, []);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = { type: type.trim(), entityType: entityType.trim(), entityId: entityId.trim() };
    setFilter(f);
    fetchPage(f);
  };
  return (
    <>
      <div class="heading">
        <h1 tabIndex={-1}>Events</h1>
      </div>
      <form class="card row wrap-row" onSubmit={submit} aria-label="Filter events">
        <label for="events-type">Type</label>
        <input
          id="events-type"
          class="mono"
          placeholder="e.g. person.updated"
          value={type}
          onInput={(e) => setType(e.currentTarget.value)}
        />
        <label for="events-entity-type">Entity type</label>
        <input
          id="events-entity-type"
          class="mono"
          value={entityType}
          onInput={(e) => setEntityType(e.currentTarget.value)}
        />
        <label for="events-entity-id">Entity id</label>
        <input
          id="events-entity-id"
          class="mono grow"
          value={entityId}
          onInput={(e) => setEntityId(e.currentTarget.value)}
        />
        <button type="submit" class="primary">
          Filter
        </button>
      </form>
      <ErrorText error={load.error} />
      {events && events.length === 0 && <p role="status">No events.</p>}
      {events && events.length > 0 && (
        <ul class="cards" aria-label="Events">
          {events.map((e) => (
            <li key={e.id} class="card">
              <h2 class="mono">{e.type}</h2>
              <p class="small">
                <span class="mono">
                  {e.entity.type}/{e.entity.id}
                </span>{' '}
                · {time(e.createdAt)} · <span class="mono">{e.id}</span>
              </p>
              {e.deliveries.length === 0 ? (
                <p class="small muted">No deliveries: no webhook subscribed.</p>
              ) : (
                <ul class="small" aria-label={`Deliveries of ${e.id}`}>
                  {e.deliveries.map((d) => (
                    <li key={d.id}>
                      <span class="mono">{d.webhookId}</span> <Badge status={d.status} />
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={() => fetchPage(filter, cursor)}>
          Load more
        </button>
      )}
    </>
  );
}

/** Find an entity by type and id (its latest data and scopes), or list a type's entities. */
export function EntitiesPage() {
  const [type, setType] = useState('');
  const [id, setId] = useState('');
  const [found, setFound] = useState<Entity[] | null>(null);
  const search = useAction();
  const find = async (entityType: string, entityId: string) => {
    const result = await search.run(async () =>
      entityId ? [await api.entity(entityType, entityId)] : (await api.entities(entityType)).data,
    );
    setFound(result ?? null);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    find(type.trim(), id.trim());
  };
  return (
    <>
      <div class="heading">
        <h1 tabIndex={-1}>Entities</h1>
      </div>
      <form class="card row wrap-row" onSubmit={submit} aria-label="Find entities">
        <label for="entity-type">Type</label>
        <input
          id="entity-type"
          class="mono"
          required
          value={type}
          onInput={(e) => setType(e.currentTarget.value)}
        />
        <label for="entity-id">Id</label>
        <input
          id="entity-id"
          class="mono grow"
          placeholder="empty: the first 100"
          value={id}
          onInput={(e) => setId(e.currentTarget.value)}
        />
        <button type="submit" class="primary">
          Find
        </button>
      </form>
      <ErrorText error={search.error} />
      {found && found.length === 0 && <p role="status">No entities of this type.</p>}
      {found && found.length > 0 && (
        <ul class="cards" aria-label="Entities found">
          {found.map((e) => (
            <li key={`${e.type}/${e.id}`} class="card">
              <h2 class="mono">
                {e.type}/{e.id}
              </h2>
              <p class="small">
                scopes {e.scopes.length > 0 ? e.scopes.join(', ') : 'none'} · version {e.version} · updated{' '}
                {time(e.updatedAt)}
              </p>
              <pre>{JSON.stringify(e.data, null, 2)}</pre>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
