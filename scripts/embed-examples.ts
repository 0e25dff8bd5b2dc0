/**
 * Fills the marked regions of the receiving guide with the example files themselves, so the
 * guide's code blocks are the code the example tests run, never copies that drift:
 *
 *   <!-- example: examples/node-express/server.js -->
 *   ```js
 *   (the file, verbatim)
 *   ```
 *   <!-- /example -->
 *
 *   npx tsx scripts/embed-examples.ts           rewrites docs/receiving-webhooks.md (npm run docs:examples)
 *   npx tsx scripts/embed-examples.ts --check   changes nothing; exits 1 when a region is out of date
 *
 * test/unit/guide.test.ts makes the same check, so a stale guide fails the tests.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const GUIDE = path.join(ROOT, 'docs', 'receiving-webhooks.md');

const REGION = /(<!-- example: (\S+) -->\n)([\s\S]*?)(<!-- \/example -->)/g;

const LANGUAGES: Record<string, string> = {
  '.js': 'js',
  '.ts': 'ts',
  '.py': 'python',
  '.go': 'go',
  '.java': 'java',
  '.xml': 'xml',
  '.json': 'json',
  '.php': 'php',
  '.rb': 'ruby',
};

/** Files whose name, not extension, says the language. */
const NAMES: Record<string, string> = { Gemfile: 'ruby' };

/** The fenced block's info string: by name or extension; `text` for the rest (requirements.txt, go.mod). */
export function languageOf(file: string): string {
  return NAMES[path.basename(file)] ?? LANGUAGES[path.extname(file)] ?? 'text';
}

/** The file as a fenced code block, its fence longer than any run of backticks inside it. */
export function codeBlock(file: string, content: string): string {
  const longest = Math.max(0, ...[...content.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return `${fence}${languageOf(file)}\n${body}${fence}\n`;
}

export interface Region {
  /** The embedded file, relative to the repository root. */
  file: string;
  /** What the guide holds between the markers now. */
  current: string;
  /** What it should hold: the file's code block. */
  expected: string;
}

/** Reads an example file relative to the repository root; a missing one is an error naming it. */
export function readExample(file: string): string {
  const resolved = path.resolve(ROOT, file);
  if (!resolved.startsWith(path.join(ROOT, 'examples') + path.sep)) {
    throw new Error(`${file}: only files under examples/ are embedded`);
  }
  try {
    return readFileSync(resolved, 'utf8');
  } catch (err) {
    throw new Error(`${file}: the guide embeds it, but it cannot be read (${(err as Error).message})`);
  }
}

/** Every marked region of `guide`, with what it holds and what it should hold. */
export function regions(guide: string, read: (file: string) => string = readExample): Region[] {
  return [...guide.matchAll(REGION)].map((m) => ({
    file: m[2],
    current: m[3],
    expected: codeBlock(m[2], read(m[2])),
  }));
}

/** `guide` with every marked region refilled from its file. */
export function embed(guide: string, read: (file: string) => string = readExample): string {
  return guide.replace(
    REGION,
    (_all, open: string, file: string, _old: string, close: string) =>
      `${open}${codeBlock(file, read(file))}${close}`,
  );
}

function main(): void {
  const check = process.argv.includes('--check');
  const guide = readFileSync(GUIDE, 'utf8');
  const found = regions(guide);
  const stale = found.filter((r) => r.current !== r.expected).map((r) => r.file);
  const where = path.relative(process.cwd(), GUIDE);
  if (check) {
    if (stale.length > 0) {
      console.error(`${where}: out of date for ${stale.join(', ')}; run npm run docs:examples`);
      process.exit(1);
    }
    console.log(`${where}: ${found.length} example regions up to date`);
    return;
  }
  if (stale.length > 0) writeFileSync(GUIDE, embed(guide));
  console.log(`${where}: ${found.length} example regions, ${stale.length} refilled`);
}

if (require.main === module) main();
