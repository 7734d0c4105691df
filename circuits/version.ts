import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CIRCOM_VERSION } from './circom.ts';

const require = createRequire(import.meta.url);

/** A dependency's version, read from its package.json (found upward from its entry point, since
 * some packages, snarkjs among them, do not export their package.json). */
function versionOf(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const json = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (json.name === pkg && json.version) return json.version;
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

/** Versions recorded in manifests and printed by `zkinfer --version`. */
export function toolVersions(): Record<string, string> {
  return {
    zkinfer: (require('../package.json') as { version: string }).version,
    circom: CIRCOM_VERSION,
    circom2: versionOf('circom2'),
    circomlib: (require('circomlib/package.json') as { version: string }).version,
    snarkjs: versionOf('snarkjs'),
  };
}
