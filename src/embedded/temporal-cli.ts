import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StartupError } from '../startup-error';

/** The last release that `go install` can build: later ones carry a `replace` directive. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** The project's ignored tool folder, where set-up builds the CLI when it is found nowhere else. */
export const TOOLS_BIN = path.resolve(__dirname, '../../.tools/bin');

export class MissingToolError extends StartupError {
  override name = 'MissingToolError';
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function goBinDir(): string | undefined {
  try {
    const gobin = execFileSync('go', ['env', 'GOBIN'], { encoding: 'utf8' }).trim();
    if (gobin) return gobin;
    return path.join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim(), 'bin');
  } catch {
    return undefined;
  }
}

/** Looks for `temporal` on PATH, in .tools/bin and in Go's bin folder, in that order. */
export function findTemporalCli(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), TOOLS_BIN];
  dirs.push(goBinDir() ?? path.join(os.homedir(), 'go', 'bin'));
  return dirs.map((d) => path.join(d, 'temporal')).find(executable);
}

/** Finds the CLI, or builds it into .tools/bin with Go (minutes, once). */
export async function ensureTemporalCli(log: (line: string) => void = console.error): Promise<string> {
  const found = findTemporalCli();
  if (found) return found;
  if (!goBinDir()) {
    throw new MissingToolError(
      'The Temporal CLI is not installed and Go is not available to build it. Either install the CLI ' +
        '(https://docs.temporal.io/cli, put `temporal` on PATH or in .tools/bin), install Go and run ' +
        `\`go install ${TEMPORAL_CLI_MODULE}\`, or set TEMPORAL_ADDRESS to an existing Temporal server.`,
    );
  }
  log(`Building the Temporal CLI (${TEMPORAL_CLI_MODULE}) into ${TOOLS_BIN}; this takes a few minutes once.`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['install', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: TOOLS_BIN },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new MissingToolError(`go install exited with ${code}`)),
    );
  });
  const built = path.join(TOOLS_BIN, 'temporal');
  if (!executable(built)) throw new MissingToolError(`go install finished but ${built} is missing`);
  return built;
}
