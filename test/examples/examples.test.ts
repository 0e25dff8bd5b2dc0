/**
 * The receiving guide's examples (examples/), each run for real: its dependencies installed from
 * the package registries (Laravel and Rails from Debian's packages), built, started on loopback
 * with a webhook secret, and pointed at by a real Herald webhook. Each must accept a genuine
 * delivery (the attempt records a 2xx), Run Test, and a delivery signed during a secret rotation
 * (two signatures, its own second); and reject the same request with a changed body, correctly
 * signed copies whose timestamp is 6 minutes off, and a valid signature under another version.
 *
 * Set-up reuses what an earlier run built (node_modules, .venv, bin/, target/; Gemfile.lock while
 * Bundler accepts it) while it is newer than the files it was built from. A missing toolchain
 * fails the example's tests with a message naming it: nothing is skipped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { stopChild } from '../../src/cli/spawn';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { freePort } from '../support/ports';
import { type Stack, startStack } from '../support/stack';

const EXAMPLES = path.resolve(__dirname, '../../examples');
/** First runs download from the registries (Maven's plugins above all): allow for it. */
const SETUP_TIMEOUT_MS = 15 * 60_000;
const GENERATED = 'generated whsec_ secret';
const USER_DEFINED = 'user-defined key';

// --- running commands ---------------------------------------------------------------------------

interface RunResult {
  code: number | null;
  output: string;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = SETUP_TIMEOUT_MS): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Runs a set-up step; a non-zero exit fails with the step's own output. */
async function step(cmd: string, args: string[], cwd: string): Promise<void> {
  const result = await run(cmd, args, cwd);
  if (result.code !== 0) {
    throw new Error(
      `\`${[cmd, ...args].join(' ')}\` in ${cwd} exited with ${result.code}:\n${result.output}`,
    );
  }
}

/** Fails with a clear message when a toolchain the example needs is not on PATH. */
async function requireTool(cmd: string, versionArgs: string[], example: string, hint: string) {
  let result: RunResult;
  try {
    result = await run(cmd, versionArgs, EXAMPLES, 60_000);
  } catch (err) {
    throw new Error(
      `The ${example} example needs \`${cmd}\` on PATH (${hint}); it was not found: ${(err as Error).message}`,
    );
  }
  if (result.code !== 0) {
    throw new Error(
      `The ${example} example needs \`${cmd}\` (${hint}); \`${cmd}\` failed:\n${result.output}`,
    );
  }
}

/** The newest modification time of `paths` and, for folders, of every file under them. */
function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const stat = statSync(p);
    if (stat.isDirectory()) {
      newest = Math.max(newest, newestMtime(readdirSync(p).map((name) => path.join(p, name))));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  }
  return newest;
}

/** True when `artifact` exists and is at least as new as every one of `sources`. */
function fresh(artifact: string, sources: string[]): boolean {
  return existsSync(artifact) && statSync(artifact).mtimeMs >= newestMtime(sources);
}

// --- the examples -------------------------------------------------------------------------------

interface Example {
  name: string;
  dir: string;
  /** Checks the toolchain, installs dependencies and builds; reuses fresh artifacts. */
  setUp(): Promise<void>;
  /** The command that starts the receiver on `port` (HERALD_WEBHOOK_SECRET and PORT are set too). */
  command(port: number): { cmd: string; args: string[] };
}

const dir = (name: string) => path.join(EXAMPLES, name);

const node: Example = {
  name: 'node-express',
  dir: dir('node-express'),
  async setUp() {
    await requireTool('npm', ['--version'], 'Node', 'npm comes with Node.js');
    const installed = path.join(this.dir, 'node_modules', '.package-lock.json');
    const manifests = ['package.json', 'package-lock.json'].map((f) => path.join(this.dir, f));
    if (!fresh(installed, manifests)) await step('npm', ['ci', '--no-audit', '--no-fund'], this.dir);
  },
  command: () => ({ cmd: process.execPath, args: ['server.js'] }),
};

const python: Example = {
  name: 'python-flask',
  dir: dir('python-flask'),
  async setUp() {
    await requireTool('python3', ['--version'], 'Python', 'Python 3.9 or later with the venv module');
    const venv = path.join(this.dir, '.venv');
    const venvPython = path.join(venv, 'bin', 'python');
    const stamp = path.join(venv, '.requirements-installed');
    // A venv points at the interpreter that made it: one whose interpreter is gone is made anew.
    const probe = existsSync(venvPython)
      ? await run(venvPython, ['--version'], this.dir, 60_000).catch(() => undefined)
      : undefined;
    const usable = probe?.code === 0;
    if (usable && fresh(stamp, [path.join(this.dir, 'requirements.txt')])) return;
    if (!usable) {
      rmSync(venv, { recursive: true, force: true });
      await step('python3', ['-m', 'venv', venv], this.dir);
    }
    await step(
      venvPython,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', 'requirements.txt'],
      this.dir,
    );
    writeFileSync(stamp, new Date().toISOString());
  },
  command: () => ({ cmd: path.join(python.dir, '.venv', 'bin', 'python'), args: ['app.py'] }),
};

const go: Example = {
  name: 'go-nethttp',
  dir: dir('go-nethttp'),
  async setUp() {
    await requireTool('go', ['version'], 'Go', 'Go 1.22 or later');
    // Go's own build cache makes a repeated build quick; it downloads the module on the first run.
    await step('go', ['build', '-o', path.join('bin', 'receiver'), '.'], this.dir);
  },
  command: () => ({ cmd: path.join(go.dir, 'bin', 'receiver'), args: [] }),
};

const java: Example = {
  name: 'java',
  dir: dir('java'),
  async setUp() {
    await requireTool('java', ['-version'], 'Java', 'a JDK 17 or later');
    await requireTool('mvn', ['-v'], 'Java', 'Maven 3.6.3 or later');
    const jar = path.join(this.dir, 'target', 'herald-receiver.jar');
    if (fresh(jar, [path.join(this.dir, 'pom.xml'), path.join(this.dir, 'src')])) return;
    await step('mvn', ['-q', '-B', '-Dstyle.color=never', '-DskipTests', 'package'], this.dir);
  },
  command: () => ({ cmd: 'java', args: ['-jar', path.join(java.dir, 'target', 'herald-receiver.jar')] }),
};

const laravel: Example = {
  name: 'php-laravel',
  dir: dir('php-laravel'),
  async setUp() {
    const hint = "PHP 8 or later with Laravel 8: Debian's php-cli and php-laravel-framework";
    await requireTool('php', ['-v'], 'Laravel', hint);
    // Debian installs the framework under /usr/share/php, on PHP's include path.
    await requireTool(
      'php',
      ['-r', "require 'Illuminate/autoload.php'; echo Illuminate\\Foundation\\Application::VERSION;"],
      'Laravel',
      hint,
    );
  },
  // PHP's built-in server with Laravel's front controller as its router script.
  command: (port) => ({ cmd: 'php', args: ['-S', `127.0.0.1:${port}`, 'public/index.php'] }),
};

const rails: Example = {
  name: 'ruby-rails',
  dir: dir('ruby-rails'),
  async setUp() {
    const hint = "Ruby with Rails 6.1 or later and WEBrick: Debian's ruby-rails";
    await requireTool('ruby', ['--version'], 'Rails', hint);
    await requireTool('bundle', ['--version'], 'Rails', hint);
    // Bundler resolves the Gemfile against the installed gems and writes Gemfile.lock; a lock
    // naming versions no longer installed (the packages were upgraded) is resolved anew.
    if ((await run('bundle', ['check'], this.dir)).code === 0) return;
    rmSync(path.join(this.dir, 'Gemfile.lock'), { force: true });
    await step('bundle', ['check'], this.dir);
  },
  // `bin/rails server` reads PORT.
  command: () => ({ cmd: 'ruby', args: ['bin/rails', 'server', '-b', '127.0.0.1'] }),
};

// --- a running receiver -------------------------------------------------------------------------

interface Running {
  output(): string;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts an example on `port` (chosen before the webhook is created, so its URL is known). */
async function startExample(
  example: Example,
  port: number,
  secret: string,
  command = example.command(port),
  timeoutMs = 60_000,
): Promise<Running> {
  const child: ChildProcess = spawn(command.cmd, command.args, {
    cwd: example.dir,
    env: { ...process.env, HERALD_WEBHOOK_SECRET: secret, PORT: String(port), PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const running: Running = {
    output: () => output,
    stop: () => stopChild(child, 5_000),
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${example.name} exited (${child.exitCode ?? child.signalCode}) at start:\n${output}`);
    }
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`${example.name} did not listen on port ${port} in ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return running;
}

const hookUrl = (port: number) => `http://127.0.0.1:${port}/webhook`;

// --- Herald ---------------------------------------------------------------------------------------

let stack: Stack;
let admin: ApiClient;

beforeAll(async () => {
  stack = await startStack();
  admin = apiClient(stack.api.url, stack.adminToken);
});
afterAll(async () => {
  await stack?.stop();
});

/** An application of its own per case, seeing only its own scope, so no event fans out elsewhere. */
let scopeCounter = 0;
async function customer() {
  const scope = `examples:${++scopeCounter}`;
  const { token } = await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] });
  return { key: apiClient(stack.api.url, token), scope };
}

interface Attempt {
  outcome: string;
  request: { url: string; method: string; headers: Record<string, string>; body: string };
  response: { status: number; body: string } | null;
  error: { kind: string; message: string } | null;
}

/** Publishes one person event and waits for its delivery to the one webhook to finish. */
async function publishAndDeliver(key: ApiClient, scope: string, entityId: string, receiver: Running) {
  // Not only ASCII: a verifier that signs text in the wrong encoding fails on these bytes.
  const published = await admin.post(
    '/v1/events',
    personEvent(entityId, { scopes: [scope], data: { name: `Zoë Ångström ${entityId} ✓` } }),
  );
  expect(published.status).toBe(202);
  expect(published.body.deliveries).toHaveLength(1);
  const deliveryId = published.body.deliveries[0].id as string;
  let last: unknown;
  try {
    return await eventually(async () => {
      const d = await key.get(`/v1/deliveries/${deliveryId}`);
      last = d.body;
      return d.body.attemptCount > 0 && d.body.status !== 'pending' && d.body.status !== 'retrying'
        ? {
            eventId: published.body.id as string,
            delivery: d.body as { status: string; attempts: Attempt[] },
          }
        : undefined;
    }, 30_000);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\ndelivery: ${JSON.stringify(last, null, 2)}\nreceiver output:\n${receiver.output()}`,
    );
  }
}

/** Sends a recorded request again, directly, optionally with another body or other headers. */
function resend(attempt: Attempt, body = attempt.request.body, headers: Record<string, string> = {}) {
  return fetch(attempt.request.url, {
    method: 'POST',
    headers: { ...attempt.request.headers, ...headers },
    body,
  });
}

function tampered(body: string): string {
  const envelope = JSON.parse(body);
  return JSON.stringify({ ...envelope, data: { ...envelope.data, name: 'Mallory' } });
}

/**
 * The `v1,...` signature of a recorded request's id and body at `seconds` (since 1970) with
 * `secret`, made by the spec's reference library rather than Herald's own signer.
 */
function signatureOf(attempt: Attempt, secret: string, seconds: number): string {
  const signer = secret.startsWith('whsec_')
    ? new StandardWebhook(secret)
    : new StandardWebhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
  return signer.sign(attempt.request.headers['webhook-id'], new Date(seconds * 1000), attempt.request.body);
}

/** Headers that sign a recorded request anew, `offsetSeconds` from now, under `version`. */
function resigned(attempt: Attempt, secret: string, offsetSeconds: number, version = 'v1') {
  const seconds = Math.floor(Date.now() / 1000) + offsetSeconds;
  return {
    'webhook-timestamp': String(seconds),
    'webhook-signature': signatureOf(attempt, secret, seconds).replace(/^v1,/, `${version},`),
  };
}

const is2xx = (status: number | null | undefined) => status != null && status >= 200 && status < 300;

/** Fails naming what was sent and what the receiver printed, unless `status` is as expected. */
function expectAnswer(status: number, expected: '2xx' | '4xx', what: string, receiver: Running) {
  const ok = expected === '2xx' ? is2xx(status) : status >= 400 && status < 500;
  if (!ok) {
    throw new Error(`${what}: expected ${expected}, got ${status}\nreceiver output:\n${receiver.output()}`);
  }
}

/**
 * The core check for one example and one kind of secret: a genuine delivery is accepted on the
 * first attempt and printed; the same request with a changed body is rejected with a 4xx while
 * the unchanged one still passes; correctly signed copies 6 minutes off in either direction are
 * rejected, as is a valid signature labelled with another version, while one signed now passes;
 * Run Test succeeds; and after a secret rotation the receiver, still holding the old secret,
 * accepts a delivery whose header carries the new secret's signature first and its own second.
 */
async function checkExample(example: Example, secretKind: string) {
  const { key, scope } = await customer();
  const chosen = secretKind === USER_DEFINED ? { secret: `my-own-key-${example.name}-0123456789` } : {};
  const port = await freePort();
  const webhook = await createWebhook(key, { url: hookUrl(port), events: ['person.*'], ...chosen });
  if (secretKind === USER_DEFINED) expect(webhook.secret).toBe(chosen.secret);
  else expect(webhook.secret).toMatch(/^whsec_/);

  const receiver = await startExample(example, port, webhook.secret);
  try {
    const { eventId, delivery } = await publishAndDeliver(
      key,
      scope,
      `${example.name}-${scopeCounter}`,
      receiver,
    );
    const [first] = delivery.attempts;
    if (!is2xx(first?.response?.status)) {
      throw new Error(
        `${example.name} did not accept a genuine delivery: ${JSON.stringify(first, null, 2)}\n${receiver.output()}`,
      );
    }
    expect(delivery.status).toBe('succeeded');
    expect(first.request.headers['webhook-id']).toBe(eventId);
    await eventually(async () => receiver.output().includes(`person.updated ${eventId}`), 5_000);

    const forged = await resend(first, tampered(first.request.body));
    expectAnswer(forged.status, '4xx', 'the delivery with a changed body', receiver);
    // The control: the same headers with the body Herald signed still pass (a redelivery would too).
    expectAnswer((await resend(first)).status, '2xx', 'the delivery sent again unchanged', receiver);

    // The timestamp tolerance (5 minutes), both ways; the copy signed now shows the signing is right.
    const stale = await resend(first, undefined, resigned(first, webhook.secret, -6 * 60));
    expectAnswer(stale.status, '4xx', 'a correctly signed copy 6 minutes old', receiver);
    const early = await resend(first, undefined, resigned(first, webhook.secret, 6 * 60));
    expectAnswer(early.status, '4xx', 'a correctly signed copy 6 minutes ahead', receiver);
    const now = await resend(first, undefined, resigned(first, webhook.secret, 0));
    expectAnswer(now.status, '2xx', 'a copy signed anew now', receiver);
    const v2 = await resend(first, undefined, resigned(first, webhook.secret, 0, 'v2'));
    expectAnswer(v2.status, '4xx', 'a valid signature labelled v2 instead of v1', receiver);

    const test = await key.post(`/v1/webhooks/${webhook.id}/test`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ outcome: 'succeeded' });
    expect(is2xx(test.body.responseStatus)).toBe(true);
    await eventually(async () => receiver.output().includes('webhook.test evt_'), 5_000);

    // Rotation: Herald signs with the new secret and, for 24 hours, the old one, in that order.
    const rotated = await key.post(`/v1/webhooks/${webhook.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const during = await publishAndDeliver(key, scope, `${example.name}-${scopeCounter}-rotated`, receiver);
    const [signed] = during.delivery.attempts;
    const signatures = signed.request.headers['webhook-signature'].split(' ');
    // The receiver's own signature is the second: it must look past the first.
    const own = signatureOf(signed, webhook.secret, Number(signed.request.headers['webhook-timestamp']));
    expect(signatures).toHaveLength(2);
    expect(signatures[1]).toBe(own);
    expect(signatures[0]).not.toBe(own);
    expectAnswer(signed.response?.status ?? 0, '2xx', 'a delivery signed during a rotation', receiver);
    expect(during.delivery.status).toBe('succeeded');
    await eventually(async () => receiver.output().includes(`person.updated ${during.eventId}`), 5_000);
  } finally {
    await receiver.stop();
  }
}

for (const example of [node, python, go, java, laravel, rails]) {
  describe(`examples/${example.name}`, () => {
    beforeAll(() => example.setUp(), SETUP_TIMEOUT_MS);

    test(`accepts genuine deliveries, also during a rotation; rejects tampered, stale and v2 ones (${GENERATED})`, () =>
      checkExample(example, GENERATED));

    test(`accepts genuine deliveries, also during a rotation; rejects tampered, stale and v2 ones (${USER_DEFINED})`, () =>
      checkExample(example, USER_DEFINED));
  });
}

describe('examples/node-express, the other two shapes', () => {
  beforeAll(() => node.setUp(), SETUP_TIMEOUT_MS);

  test('a GET webhook: the envelope in the payload parameter verifies', async () => {
    const { key, scope } = await customer();
    const port = await freePort();
    const webhook = await createWebhook(key, { url: hookUrl(port), method: 'GET' });
    const receiver = await startExample(node, port, webhook.secret);
    try {
      const { eventId, delivery } = await publishAndDeliver(key, scope, 'get-1', receiver);
      expect(delivery.attempts[0].request.method).toBe('GET');
      expect(is2xx(delivery.attempts[0].response?.status)).toBe(true);
      await eventually(async () => receiver.output().includes(`person.updated ${eventId}`), 5_000);

      const url = new URL(delivery.attempts[0].request.url);
      url.searchParams.set(
        'payload',
        Buffer.from(tampered(delivery.attempts[0].request.body)).toString('base64url'),
      );
      const forged = await fetch(url, { headers: delivery.attempts[0].request.headers });
      expect(forged.status).toBe(401);
    } finally {
      await receiver.stop();
    }
  });

  test('the hmac-sha256 option: hmac-sha256.js accepts a genuine delivery and rejects a tampered one', async () => {
    const { key, scope } = await customer();
    const port = await freePort();
    const webhook = await createWebhook(key, { url: hookUrl(port), signature: 'hmac-sha256' });
    const receiver = await startExample(node, port, webhook.secret, {
      cmd: process.execPath,
      args: ['hmac-sha256.js'],
    });
    try {
      const { eventId, delivery } = await publishAndDeliver(key, scope, 'hmac-1', receiver);
      const [first] = delivery.attempts;
      expect(first.request.headers.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(is2xx(first.response?.status)).toBe(true);
      await eventually(async () => receiver.output().includes(`person.updated ${eventId}`), 5_000);
      expect((await resend(first, tampered(first.request.body))).status).toBe(401);
      expect(is2xx((await resend(first)).status)).toBe(true);
    } finally {
      await receiver.stop();
    }
  });
});
