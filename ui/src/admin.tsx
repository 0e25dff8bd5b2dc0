// The admin's own pages: applications (create, rename, access), their keys (create with scopes and
// subject, the token shown once, revoke) and the entity browser.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Application, api, type Entity, KEY_SCOPES, type Key, type KeyScope } from './api';
import { ErrorText, FieldError, Link, navigate, SecretNotice, Section, time, useAction } from './ui';

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

function KeysPanel({ appId }: { appId: string }) {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [token, setToken] = useState('');
  const [confirming, setConfirming] = useState('');
  const [revoked, setRevoked] = useState('');
  const confirmButton = useRef<HTMLButtonElement>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<KeyScope[]>([...KEY_SCOPES]);
  const [subjectType, setSubjectType] = useState('');
  const [subjectId, setSubjectId] = useState('');
  const load = useAction();
  const create = useAction();
  const revoke = useAction();
  const reload = () => load.run(async () => setKeys((await api.keys(appId)).data));
  useEffect(() => {
    reload();
  }, [appId]);
  // The keyboard follows the confirmation: to its button, and back to Revoke when kept.
  const lastConfirming = useRef('');
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
    else if (lastConfirming.current) document.getElementById(`revoke-${lastConfirming.current}`)?.focus();
    lastConfirming.current = confirming;
  }, [confirming]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = { name, scopes };
    if (subjectType || subjectId) body.subject = { type: subjectType, id: subjectId };
    setRevoked('');
    const created = await create.run(() => api.createKey(appId, body));
    if (!created) return;
    setToken(created.token);
    setName('');
    reload();
  };
  const scopeErrors = create.error instanceof ApiError ? create.error.at('body.scopes') : [];

  return (
    <Section title="Keys" id="keys-title" class="card">
      {token && <SecretNotice name="Key token" secret={token} onDismiss={() => setToken('')} />}
      <ErrorText error={load.error} />
      {keys && keys.length === 0 && <p class="muted">No keys yet.</p>}
      {keys && keys.length > 0 && (
        <ul class="keys" aria-label="Keys">
          {keys.map((k) => (
            <li key={k.id} class="row spread wrap-row">
              <span>
                <strong>{k.name}</strong> <span class="mono small">{k.tokenHint}</span>
                <span class="small muted">
                  {' '}
                  · {k.scopes.join(', ')}
                  {k.subject ? ` · subject ${k.subject.type}/${k.subject.id}` : ''} · {time(k.createdAt)}
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
                        await api.revokeKey(appId, k.id);
                        return true;
                      });
                      lastConfirming.current = '';
                      setConfirming('');
                      if (!done) return;
                      setRevoked(k.name);
                      reload();
                      document.getElementById('key-name')?.focus();
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
                  onClick={() => setConfirming(k.id)}
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

      <form class="form" onSubmit={submit} noValidate aria-label="New key">
        <h3>New key</h3>
        <Field
          id="key-name"
          label="Key name"
          value={name}
          onInput={setName}
          error={create.error}
          path="name"
        />
        <fieldset
          aria-invalid={scopeErrors.length > 0 ? true : undefined}
          aria-describedby={scopeErrors.length > 0 ? 'key-scopes-error' : undefined}
        >
          <legend>Scopes</legend>
          <div class="checks">
            {KEY_SCOPES.map((scope) => (
              <label key={scope} class="check">
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(e) =>
                    setScopes(
                      e.currentTarget.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope),
                    )
                  }
                />
                <span class="mono">{scope}</span>
              </label>
            ))}
          </div>
          <FieldError id="key-scopes-error" messages={scopeErrors} />
        </fieldset>
        <fieldset>
          <legend>Subject (optional)</legend>
          <p class="hint">A key for one entity: it sees only deliveries about that entity.</p>
          <div class="grid2">
            <Field
              id="key-subject-type"
              label="Entity type"
              value={subjectType}
              onInput={setSubjectType}
              error={create.error}
              path="subject.type"
              mono
            />
            <Field
              id="key-subject-id"
              label="Entity id"
              value={subjectId}
              onInput={setSubjectId}
              error={create.error}
              path="subject.id"
              mono
            />
          </div>
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary">
            Create key
          </button>
          {create.error && !(create.error instanceof ApiError && create.error.errors.length > 0) && (
            <ErrorText error={create.error} />
          )}
        </div>
      </form>
    </Section>
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
