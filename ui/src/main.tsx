import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApplicationPage, ApplicationsPage, EntitiesPage, EventsPage, PublisherKeysPage } from './admin';
import { type Application, api, session } from './api';
import './styles.css';
import { ErrorText, Link, navigate, useAction, usePath } from './ui';
import { WebhookPage } from './webhook-page';
import { WebhookForm, WebhookList } from './webhooks';

type Who = 'admin' | 'key';
const WHO_KEY = 'herald.who';
const APP_KEY = 'herald.app';
const ADMIN_PAGES = [
  { href: '/admin/applications', label: 'Applications' },
  { href: '/admin/entities', label: 'Entities' },
  { href: '/admin/events', label: 'Events' },
  { href: '/admin/publisher-keys', label: 'Publisher keys' },
];

function SignIn({ onSignedIn }: { onSignedIn: (who: Who) => void }) {
  const [token, setToken] = useState('');
  const { run, busy, error } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const who = await api.whoAmI(token.trim());
      session.set(token.trim());
      onSignedIn(who);
    });
  };
  return (
    <main id="main" class="signin">
      <h1>Herald admin</h1>
      <form onSubmit={submit} class="card">
        <label for="token">Admin token or application key</label>
        <input
          id="token"
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby={error ? 'token-error' : 'token-hint'}
          aria-invalid={error ? true : undefined}
        />
        <p class="hint" id="token-hint">
          Kept in this browser tab only, until you sign out or close it.
        </p>
        <ErrorText error={error} id="token-error" />
        <button type="submit" class="primary">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

/**
 * Admins act on one application at a time; keys see their own only. The list is read again on
 * every page, so an application created on the admin pages is there to pick.
 */
function AppPicker(props: { appId: string; path: string; onPick: (id: string, byUser: boolean) => void }) {
  const [apps, setApps] = useState<Application[] | null>(null);
  const { run, error } = useAction();
  useEffect(() => {
    run(async () => {
      const list = (await api.applications()).data;
      setApps(list);
      if (list.length > 0 && !list.some((a) => a.id === props.appId)) props.onPick(list[0].id, false);
    });
  }, [props.path]);
  if (error) return <ErrorText error={error} />;
  if (!apps) return null;
  if (apps.length === 0)
    return (
      <p class="hint">
        No applications yet: <Link href="/admin/applications">create one</Link>.
      </p>
    );
  return (
    <div class="picker">
      <label for="app-picker">Application</label>
      <select id="app-picker" value={props.appId} onChange={(e) => props.onPick(e.currentTarget.value, true)}>
        {apps.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name} ({a.id})
          </option>
        ))}
      </select>
    </div>
  );
}

function App() {
  const path = usePath();
  const [who, setWho] = useState<Who | null>(
    session.token ? (sessionStorage.getItem(WHO_KEY) as Who | null) : null,
  );
  const [appId, setAppId] = useState(sessionStorage.getItem(APP_KEY) ?? '');
  const [notice, setNotice] = useState('');

  const signOut = (message = '') => {
    session.set('');
    sessionStorage.removeItem(WHO_KEY);
    sessionStorage.removeItem(APP_KEY);
    setWho(null);
    setNotice(message);
    navigate('/', true);
  };
  session.onUnauthorized(() => signOut('Your token is no longer valid; sign in again.'));

  // Move focus to the new page's heading, so keyboard and screen reader users start there.
  const page = path.replace(/\/deliveries\/[^/]+$/, '');
  useEffect(() => {
    (document.querySelector('main h1') as HTMLElement | null)?.focus();
  }, [page, who]);

  if (!who) {
    return (
      <>
        {notice && (
          <p class="error banner" role="alert">
            {notice}
          </p>
        )}
        <SignIn
          onSignedIn={(w) => {
            sessionStorage.setItem(WHO_KEY, w);
            setNotice('');
            setWho(w);
          }}
        />
      </>
    );
  }

  const pickApp = (id: string, byUser: boolean) => {
    sessionStorage.setItem(APP_KEY, id);
    setAppId(id);
    if (byUser && path !== '/') navigate('/');
  };
  let content = (
    <>
      <h1 tabIndex={-1}>Not found</h1>
      <p>
        <Link href="/">Back to the webhooks</Link>
      </p>
    </>
  );
  const match = /^\/webhooks\/([^/]+)(?:\/(edit|deliveries\/([^/]+)))?\/?$/.exec(path);
  const appMatch = /^\/admin\/applications\/([^/]+)$/.exec(path);
  if (who === 'admin' && path === '/admin/applications') {
    content = <ApplicationsPage />;
  } else if (who === 'admin' && appMatch) {
    content = <ApplicationPage id={decodeURIComponent(appMatch[1])} />;
  } else if (who === 'admin' && path === '/admin/entities') {
    content = <EntitiesPage />;
  } else if (who === 'admin' && path === '/admin/events') {
    content = <EventsPage />;
  } else if (who === 'admin' && path === '/admin/publisher-keys') {
    content = <PublisherKeysPage />;
  } else if (path === '/' || path === '/webhooks') {
    content = <WebhookList appId={who === 'admin' ? appId : undefined} admin={who === 'admin'} />;
  } else if (path === '/webhooks/new') {
    content = <WebhookForm appId={who === 'admin' ? appId : undefined} />;
  } else if (match?.[2] === 'edit') {
    content = <WebhookForm id={decodeURIComponent(match[1])} />;
  } else if (match) {
    content = (
      <WebhookPage
        id={decodeURIComponent(match[1])}
        deliveryId={match[3] ? decodeURIComponent(match[3]) : undefined}
      />
    );
  }

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          Herald
        </Link>
        {who === 'admin' && (
          <nav aria-label="Admin" class="row">
            {ADMIN_PAGES.map((p) => (
              <Link
                key={p.href}
                href={p.href}
                aria-current={path === p.href || path.startsWith(`${p.href}/`) ? 'page' : undefined}
              >
                {p.label}
              </Link>
            ))}
          </nav>
        )}
        {who === 'admin' && <AppPicker appId={appId} path={path} onPick={pickApp} />}
        <span class="who">{who === 'admin' ? 'Admin' : 'Application key'}</span>
        <button type="button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main">{content}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
