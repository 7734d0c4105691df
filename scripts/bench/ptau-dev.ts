/**
 * `zkinfer ptau dev` timings: the direct computation (circuits/setup/ptauWriter.ts) against
 * snarkjs's own ceremony steps (new accumulator, one contribution, prepare phase 2) at the same
 * power in the same run, then the direct computation alone at the powers large circuits need.
 * Usage: node --import tsx scripts/bench/ptau-dev.ts [baselinePower=11] [powers=12,16,18]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { randomSecrets, writePreparedPtau } from '../../circuits/setup/ptauWriter.ts';
import { machine, terminateCurve, writeReport } from './benchLib.ts';

const baselinePower = Number(process.argv[2] ?? 11);
const powers = (process.argv[3] ?? '12,16,18').split(',').map(Number);
const dir = await mkdtemp(join(tmpdir(), 'zkinfer-ptau-bench-'));
const rows: { power: number; method: string; seconds: number; peakRssMiB: number; fileMiB: number }[] = [];

let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 50);

async function measure(power: number, method: string, run: (out: string) => Promise<void>): Promise<number> {
  const out = join(dir, `${method}-${power}.ptau`);
  peak = process.memoryUsage().rss;
  const t0 = performance.now();
  await run(out);
  const seconds = (performance.now() - t0) / 1000;
  const fileMiB = (await stat(out)).size / 2 ** 20;
  rows.push({ power, method, seconds, peakRssMiB: Math.round(peak / 2 ** 20), fileMiB: Math.round(fileMiB) });
  console.error(`2^${power} ${method}: ${seconds.toFixed(1)} s`);
  await rm(out, { force: true });
  return seconds;
}

const direct = (power: number) =>
  measure(power, 'direct', (out) => writePreparedPtau(power, out, randomSecrets()));
let ratio = 0;
try {
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  const baseline = await measure(baselinePower, 'snarkjs new + contribute + prepare phase 2', async (out) => {
    await snarkjs.powersOfTau.newAccumulator(curve, baselinePower, `${out}.0`);
    await snarkjs.powersOfTau.contribute(`${out}.0`, `${out}.1`, 'bench', randomBytes(32).toString('hex'));
    await snarkjs.powersOfTau.preparePhase2(`${out}.1`, out);
    await rm(`${out}.0`, { force: true });
    await rm(`${out}.1`, { force: true });
  });
  ratio = baseline / (await direct(baselinePower));
  for (const p of powers) await direct(p);
} finally {
  clearInterval(sampler);
  await rm(dir, { recursive: true, force: true });
  await terminateCurve();
}

const md = [
  '# zkinfer ptau dev — a prepared development ptau',
  '',
  `Measured ${new Date().toISOString()} on ${machine()}.`,
  '',
  '| power | method | time (s) | peak RSS (MiB) | file (MiB) |',
  '|---:|---|---:|---:|---:|',
  ...rows.map(
    (r) => `| 2^${r.power} | ${r.method} | ${r.seconds.toFixed(1)} | ${r.peakRssMiB} | ${r.fileMiB} |`,
  ),
  '',
  `At 2^${baselinePower}, the direct computation is **${ratio.toFixed(1)}×** faster than snarkjs's ceremony steps (same run). Both files are prepared for phase 2; the direct one is byte for byte what snarkjs's prepare phase 2 makes of its power sections (circuits/setup/ptauWriter.test.ts).`,
  '',
].join('\n');
console.log(md);
console.error(`report: ${await writeReport('ptau-dev', md, { machine: machine(), rows, ratio })}`);
