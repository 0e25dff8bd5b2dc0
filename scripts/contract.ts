/**
 * The contract check (`npm run test:contract`): a live stack (embedded PostgreSQL, the Temporal dev
 * server, the API and a worker, as bench/stack.ts starts them), then Schemathesis, an independent
 * tool, run against its /openapi.json with the admin token: every check, every phase. Exits with
 * Schemathesis's status, so any failure fails the run. Schemathesis lives in a virtualenv under
 * .tools/ (gitignored), installed here on first use and again only when the pin changes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startStack } from '../bench/stack';

const ROOT = path.resolve(__dirname, '..');
/** Pinned: a new Schemathesis release adds checks and changes generation, so upgrades are deliberate. */
const SCHEMATHESIS_VERSION = '4.32.5';
const VENV = path.join(ROOT, '.tools', 'schemathesis');
const SCHEMATHESIS = path.join(VENV, 'bin', 'schemathesis');

function run(cmd: string, args: string[]): void {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

function installedVersion(): string | undefined {
  if (!existsSync(SCHEMATHESIS)) return undefined;
  const out = spawnSync(SCHEMATHESIS, ['--version'], { encoding: 'utf8' });
  return out.stdout.match(/version (\S+)/)?.[1];
}

function ensureSchemathesis(): void {
  if (installedVersion() === SCHEMATHESIS_VERSION) return;
  console.log(`installing schemathesis ${SCHEMATHESIS_VERSION} into ${VENV}`);
  const python = process.env.PYTHON ?? 'python3.11';
  if (!existsSync(path.join(VENV, 'bin', 'pip'))) run(python, ['-m', 'venv', VENV]);
  run(path.join(VENV, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ]);
}

/**
 * Schemathesis's report, line by line, with its section banners (`=== SUMMARY ===`, and the
 * closing `=== 1 warning in 61.50s ===`) drawn with dashes: its closing banner has the form of
 * pytest's, and a CI reader that takes it for pytest's reads a run of no test (a warning and no
 * count). Resolves with the test case counts of its summary, the run's closing line here.
 */
async function reprint(out: NodeJS.ReadableStream) {
  let cases: { passed: number; failed: number; skipped: number } | undefined;
  const count = (line: string, word: string) => Number(line.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
  for await (const line of createInterface({ input: out, crlfDelay: Number.POSITIVE_INFINITY })) {
    const banner = line.match(/^=+ (.+?) =+$/);
    console.log(banner ? `--- ${banner[1]} ---` : line);
    // The summary's "Test cases:" count, the one line that says "N generated".
    if (/^\s*\d+ generated/.test(line)) {
      cases = {
        passed: count(line, 'passed'),
        failed: count(line, 'failed'),
        skipped: count(line, 'skipped'),
      };
    }
  }
  return cases;
}

async function main(): Promise<number> {
  ensureSchemathesis();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-contract-'));
  const stack = await startStack({
    dataDir,
    temporalArgs: [],
    env: {
      // Webhook tests and deliveries aim at whatever URL was generated: give up on it quickly.
      HERALD_REQUEST_TIMEOUT_MS: '1000',
      // Schemathesis sends bad tokens from one address by design, and expects a 401 to each; the
      // failed-token limit (a 429 after 20 a minute) is tested by ratelimit.test.ts.
      HERALD_AUTH_FAILURES_PER_MINUTE: '0',
      LOG_LEVEL: 'error',
    },
    log: (line) => console.log(line),
  });
  try {
    const args = [
      '--config-file',
      path.join(ROOT, 'scripts', 'schemathesis.toml'),
      'run',
      `${stack.apiUrl}/openapi.json`,
      ...process.argv.slice(2),
    ];
    const child = spawn(SCHEMATHESIS, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: dataDir,
      env: { ...process.env, HERALD_ADMIN_TOKEN: stack.adminToken },
    });
    const report = reprint(child.stdout);
    const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
    const cases = await report;
    // A failing run failed at least one case, however its summary words the failures.
    const failed = code === 0 ? (cases?.failed ?? 0) : Math.max(1, cases?.failed ?? 0);
    console.log(`contract: ${cases?.passed ?? 0} passed, ${failed} failed, ${cases?.skipped ?? 0} skipped`);
    return code;
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
