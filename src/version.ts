import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Herald's version, from package.json (found from both src/ and dist/src/). */
export const VERSION: string = (() => {
  for (const up of ['..', '../..']) {
    try {
      return JSON.parse(readFileSync(path.join(__dirname, up, 'package.json'), 'utf8')).version;
    } catch {}
  }
  return '0.0.0';
})();
