import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { goBinDir, MissingToolError, TOOLS_BIN } from '../../src/embedded/temporal-cli';

/**
 * The real Temporal server (`server`, one binary for every service) and its schema tool (`sql`),
 * built from the same release the compose file and the Helm chart's images run. Found in
 * .tools/bin or Go's bin folder, else built there with `go install` (seconds with a warm Go cache,
 * a few minutes cold), as src/embedded/temporal-cli.ts does for the CLI.
 */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
const MODULE = 'go.temporal.io/server';
const PACKAGES = { server: `${MODULE}/cmd/server`, sql: `${MODULE}/cmd/tools/sql` } as const;
/** What each binary prints for `--version`: a binary of another release is not used. */
const VERSION_LINE = {
  server: `temporal version ${TEMPORAL_SERVER_VERSION}`,
  sql: `temporal-sql-tool version ${TEMPORAL_SERVER_VERSION}`,
};

export interface TemporalServerTools {
  server: string;
  sql: string;
  /** The release's SQL schemas: `<schemaDir>/postgresql/v12/{temporal,visibility}/versioned`. */
  schemaDir: string;
}

function isRelease(file: string, name: keyof typeof PACKAGES): boolean {
  try {
    return execFileSync(file, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).includes(VERSION_LINE[name]);
  } catch {
    return false;
  }
}

function find(name: keyof typeof PACKAGES): string | undefined {
  const dirs = [TOOLS_BIN, goBinDir()].filter((d): d is string => Boolean(d));
  return dirs.map((d) => path.join(d, name)).find((f) => isRelease(f, name));
}

function goInstall(packages: string[], log: (line: string) => void): Promise<void> {
  log(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} (${packages.join(', ')}) into ${TOOLS_BIN}`);
  return new Promise((resolve, reject) => {
    const child = spawn('go', ['install', ...packages.map((p) => `${p}@v${TEMPORAL_SERVER_VERSION}`)], {
      env: { ...process.env, GOBIN: TOOLS_BIN },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new MissingToolError(`go install exited with ${code}`)),
    );
  });
}

export async function ensureTemporalServer(
  log: (line: string) => void = console.error,
): Promise<TemporalServerTools> {
  if (!goBinDir() && !(find('server') && find('sql')))
    throw new MissingToolError(
      `The Temporal server ${TEMPORAL_SERVER_VERSION} is not in .tools/bin and Go is not available to build it`,
    );
  const missing = (Object.keys(PACKAGES) as (keyof typeof PACKAGES)[]).filter((n) => !find(n));
  if (missing.length)
    await goInstall(
      missing.map((n) => PACKAGES[n]),
      log,
    );
  const server = find('server');
  const sql = find('sql');
  if (!server || !sql) throw new MissingToolError('go install finished but the server binaries are missing');
  // The module's source (fetched by go install) carries the schemas the tool applies.
  const info = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', `${MODULE}@v${TEMPORAL_SERVER_VERSION}`], {
      encoding: 'utf8',
    }),
  ) as { Dir: string };
  return { server, sql, schemaDir: path.join(info.Dir, 'schema') };
}
