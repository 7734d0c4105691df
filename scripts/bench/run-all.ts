/** Runs every benchmark scenario in scripts/bench/ one after another (each writes its own report). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const scenarios: [string, ...string[]][] = [
  ['prove-throughput.ts', 'mlp-digits', '24'],
  ['prove-throughput.ts', 'cnn-bn-digits', '16'],
  ['verify-throughput.ts'],
  ['settlement-gas.ts'],
];
let failed = 0;
for (const [file, ...args] of scenarios) {
  console.error(`== ${file} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, file), ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
console.error(`reports in ${join(here, 'reports')}`);
process.exitCode = failed ? 1 : 0;
