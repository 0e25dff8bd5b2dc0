#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone: installs the dependencies when they are missing or
// older than package-lock.json, then runs the command. Only Node's own modules are used here,
// since nothing else is installed yet when it runs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...rest] = process.argv.slice(2);

function dependenciesStale() {
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(installed)) return true;
  return statSync(path.join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs;
}

// `npm install` rather than `npm ci`: the lockfile holds only the platform builds (biome, swc) the
// registry served when it was written, which `npm ci` rejects as out of sync on npm 11.
if (dependenciesStale()) {
  console.error('Installing dependencies (npm install)...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// The admin panel (ui/) is built when its build is missing or older than its sources.
function newestMtime(file) {
  if (!existsSync(file)) return 0;
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(file).map((name) => newestMtime(path.join(file, name))));
}
function uiStale() {
  const built = path.join(root, 'ui', 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const sources = Math.max(
    newestMtime(path.join(root, 'ui', 'src')),
    newestMtime(path.join(root, 'ui', 'index.html')),
  );
  return sources > statSync(built).mtimeMs;
}
if ((command === 'start' || command === 'test') && uiStale()) {
  console.error('Building the admin panel (npm run build:ui)...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build:ui'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const commands = {
  start: ['--import', 'tsx', path.join(root, 'src/cli/start.ts')],
  test: [path.join(root, 'node_modules/jest/bin/jest.js'), ...rest],
};
if (!commands[command]) {
  console.error(`usage: bootstrap.mjs ${Object.keys(commands).join('|')}`);
  process.exit(2);
}
const child = spawn(process.execPath, commands[command], { cwd: root, stdio: 'inherit' });
// A terminal's Ctrl-C reaches the whole process group; a SIGTERM sent to npm alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
