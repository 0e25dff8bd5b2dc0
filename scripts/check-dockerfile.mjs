#!/usr/bin/env node
// Runs the Dockerfile's own steps without a Docker engine (CI has none): each stage gets a folder
// under a temp dir standing for its filesystem root, COPY copies from the build context (minus
// .dockerignore) or from an earlier stage's folder, WORKDIR and ENV apply, RUN runs in `sh -c`.
// RUN's --mount options are dropped (npm uses this machine's cache). FROM's base image is this machine (same Node major expected); USER, EXPOSE and CMD only matter to
// a container runtime. At the end the last stage's CMD is started with no configuration: it must
// load all its modules from the production dependencies alone and stop with Herald's one-line
// "DATABASE_URL is required". Usage: node scripts/check-dockerfile.mjs [Dockerfile]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dockerfile = path.resolve(process.argv[2] ?? path.join(root, 'Dockerfile'));
const work = mkdtempSync(path.join(os.tmpdir(), 'herald-dockerfile-'));

/** Instructions with their line continuations joined, comments and blank lines dropped. */
function instructions(text) {
  const out = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!current && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.endsWith('\\')) current += `${line.slice(0, -1)} `;
    else {
      out.push((current + line).trim());
      current = '';
    }
  }
  return out.map((l) => {
    const space = l.indexOf(' ');
    return { op: l.slice(0, space).toUpperCase(), args: l.slice(space + 1).trim() };
  });
}

const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const isIgnored = (rel) =>
  ignored.some(
    (p) => rel === p || rel.startsWith(`${p}/`) || (p.startsWith('*.') && rel.endsWith(p.slice(1))),
  );

const stages = new Map();
let stage;
let cmd;
for (let { op, args } of instructions(readFileSync(dockerfile, 'utf8'))) {
  if (op === 'FROM') {
    const name = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? `stage${stages.size}`;
    stage = { name, root: path.join(work, name), workdir: '/', env: {} };
    mkdirSync(stage.root, { recursive: true });
    stages.set(name, stage);
    console.log(
      `== stage ${name} (${args.split(/\s+/)[0]} stands for this machine: node ${process.version})`,
    );
    continue;
  }
  const inStage = (p) => path.join(stage.root, path.posix.resolve(stage.workdir, p));
  if (op === 'WORKDIR') {
    stage.workdir = path.posix.resolve(stage.workdir, args);
    mkdirSync(inStage('.'), { recursive: true });
  } else if (op === 'ENV') {
    for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[m[1]] = m[2].replace(/^"|"$/g, '');
  } else if (op === 'COPY') {
    const words = args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    const dest = paths.pop();
    for (const src of paths) {
      const source = from ? path.join(stages.get(from).root, src) : path.join(root, src);
      if (!existsSync(source)) throw new Error(`COPY ${src}: not found`);
      const target = dest.endsWith('/') ? path.join(inStage(dest), path.basename(src)) : inStage(dest);
      cpSync(source, target, {
        recursive: true,
        filter: (s) => from || !isIgnored(path.relative(root, s)),
      });
    }
    console.log(`COPY ${args}`);
  } else if (op === 'RUN') {
    // --mount (BuildKit cache mounts) only changes where npm caches: here it is this machine's cache.
    args = args.replace(/^(--\S+\s+)+/, '');
    console.log(`RUN ${args}`);
    const t = performance.now();
    const run = spawnSync('sh', ['-ec', args], {
      cwd: inStage('.'),
      env: { ...process.env, ...stage.env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (run.status !== 0) {
      console.error(`check-dockerfile: RUN failed (exit ${run.status}) in stage ${stage.name}: ${args}`);
      process.exit(1);
    }
    console.log(`   (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  } else if (op === 'CMD') {
    cmd = JSON.parse(args);
  }
}

// The image's command with no configuration: every module loads, then the one line for the operator.
const env = Object.fromEntries(
  Object.entries({ ...process.env, ...stage.env }).filter(([k]) => !/^(DATABASE_URL|TEMPORAL_|PG)/.test(k)),
);
const started = spawnSync(cmd[0] === 'node' ? process.execPath : cmd[0], cmd.slice(1), {
  cwd: path.join(stage.root, stage.workdir),
  env,
  encoding: 'utf8',
});
const line = started.stderr.trim();
console.log(`CMD ${cmd.join(' ')} -> exit ${started.status}: ${line}`);
if (started.status !== 1 || !/^herald api: DATABASE_URL is required/.test(line)) {
  console.error('check-dockerfile: the runtime stage did not start as expected');
  process.exit(1);
}
rmSync(work, { recursive: true, force: true });
console.log('check-dockerfile: every step passed');
