// Small shared pieces: the router, status badges, error messages, copy buttons, following a
// workflow's progress and formatting.
import type { AnchorHTMLAttributes, ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

// --- routing: the History API, paths the API serves index.html for (/ and /webhooks/...) ---

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return path;
}

/** An ordinary link (keyboard, middle click, "open in new tab") that routes inside the page. */
export function Link({ href, ...props }: AnchorHTMLAttributes & { href: string }) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a {...props} href={href} onClick={onClick} />;
}

// --- status and errors ---

export function Badge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}

/** An error shown where the action that caused it is; `role="alert"` announces it. */
export function ErrorText({ error, id, prefix }: { error: unknown; id?: string; prefix?: string }) {
  if (!error) return null;
  const message =
    error instanceof ApiError
      ? error.errors.length > 0 && (error.status === 400 || error.status === 422)
        ? `${error.message} ${error.errors.map((e) => `${e.path.replace(/^body\./, '')}: ${e.message}`).join('; ')}`
        : error.message
      : String((error as Error).message ?? error);
  return (
    <p class="error" role="alert" id={id}>
      {prefix && <strong>{prefix} </strong>}
      {message}
    </p>
  );
}

/** Messages for one form field, linked to it through `aria-describedby`. */
export function FieldError({ id, messages }: { id: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <p class="error" id={id}>
      {messages.join('; ')}
    </p>
  );
}

/**
 * Runs one async action at a time (a second press while it runs does nothing) and keeps its error
 * for display beside its button. Buttons stay enabled, so they keep the keyboard focus.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const running = useRef(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  async function run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (running.current) return undefined;
    running.current = true;
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      if (mounted.current) setError(err);
      return undefined;
    } finally {
      running.current = false;
      if (mounted.current) setBusy(false);
    }
  }
  return { run, busy, error, setError };
}

/**
 * Re-reads `item` every 500 ms while it is `live` (after a failed read, 500 ms later again) and
 * hands each answer to `show`, which stores it: a new item schedules the next read.
 */
export function useFollow<T>(
  item: T | null,
  live: boolean,
  reread: () => Promise<T>,
  show: (next: T) => void,
) {
  const [failures, setFailures] = useState(0);
  useEffect(() => {
    if (!item || !live) return;
    let stopped = false;
    const timer = setTimeout(async () => {
      try {
        const next = await reread();
        if (!stopped) show(next);
      } catch {
        if (!stopped) setFailures((n) => n + 1);
      }
    }, 500);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [item, live, failures]);
}

/** Pause or resume, and cancel, of a sync or a recovery while it is active. */
export function WorkflowControls(props: {
  noun: string;
  paused: boolean;
  onSignal: (what: 'pause' | 'resume' | 'cancel') => void;
}) {
  return (
    <div class="row">
      {props.paused ? (
        <button type="button" onClick={() => props.onSignal('resume')}>
          Resume {props.noun}
        </button>
      ) : (
        <button type="button" onClick={() => props.onSignal('pause')}>
          Pause {props.noun}
        </button>
      )}
      <button type="button" class="danger" onClick={() => props.onSignal('cancel')}>
        Cancel {props.noun}
      </button>
    </div>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard API (plain http on a remote host): the older way still works.
      const area = document.createElement('textarea');
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return (
    <>
      <button type="button" onClick={copy} aria-label={label}>
        {copied ? 'Copied' : 'Copy'}
      </button>
      <span class="sr-only" aria-live="polite">
        {copied ? 'Copied to the clipboard' : ''}
      </span>
    </>
  );
}

/** A secret shown once (a signing secret after create or rotate, a key's token), with a copy button. */
export function SecretNotice(props: { name: string; secret: string; onDismiss: () => void }) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <section class="notice" aria-labelledby="secret-title">
      <h2 id="secret-title">{props.name}</h2>
      <p>Copy it now: Herald does not show it again.</p>
      <div class="row">
        <input
          ref={ref}
          readOnly
          value={props.secret}
          aria-label={props.name}
          class="mono grow"
          onFocus={(e) => e.currentTarget.select()}
        />
        <CopyButton text={props.secret} label={`Copy ${props.name.toLowerCase()}`} />
      </div>
      <button type="button" class="link" onClick={props.onDismiss}>
        I have stored it
      </button>
    </section>
  );
}

export function Section(props: { title: string; id: string; children: ComponentChildren; class?: string }) {
  return (
    <section aria-labelledby={props.id} class={props.class}>
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

// --- formatting ---

export const time = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });

export const pretty = (body: string) => {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
};
