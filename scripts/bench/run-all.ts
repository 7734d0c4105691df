/** Runs every benchmark scenario in scripts/bench/ one after another (each writes its own report). */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const scenarios: [string, ...string[]][] = [
  ['engine.ts'],
  ['prove-throughput.ts', 'mlp-digits', '24'],
  ['prove-throughput.ts', 'cnn-bn-digits', '16'],
  ['verify-throughput.ts'],
  ['settlement-gas.ts'],
  ['ptau-dev.ts'],
  ['flood.ts'],
  ['gateway.ts'],
  ['fleet.ts'],
];
let failed = 0;
for (const [file, ...args] of scenarios) {
  console.error(`== ${file} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, file), ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
// one report: every scenario's section, in the order they ran
const dir = join(here, 'reports');
const sections = readdirSync(dir)
  .filter((f) => f.endsWith('.md') && f !== 'REPORT.md')
  .sort()
  .map((f) => readFileSync(join(dir, f), 'utf8').replace(/^# /, '## '));
writeFileSync(join(dir, 'REPORT.md'), ['# zkinfer benchmarks', '', ...sections].join('\n'));
console.error(`report: ${join(dir, 'REPORT.md')}`);
process.exitCode = failed ? 1 : 0;
