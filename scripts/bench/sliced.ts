/**
 * A model proved in slices (by default the GRU fixture, a 2^15 circuit, cut at 8,000 constraints
 * so that the committed 2^13 ptau sets up every slice): per slice its constraints, prove time and
 * the process's memory; per request the latency with 1 and with 2 warm pool workers (slices of one
 * request prove in parallel), in one run; and the same model as one circuit, proved once.
 * Usage: node --import tsx scripts/bench/sliced.ts [fixture=gru-digits] [maxConstraints=8000] [requests=3] [whole=yes]
 * (lenet5-digits28 131008 cuts LeNet-5 in two slices of 2^17; whole=no skips the model as one
 * circuit, whose 2^18 setup takes long.)
 */
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { loadQuantGraph, openArtifacts } from '../../circuits/artifacts.ts';
import { compileModel } from '../../circuits/compile.ts';
import { toField } from '../../circuits/core/field.ts';
import { requiredPower } from '../../circuits/setup/ptauInfo.ts';
import { setupArtifacts } from '../../circuits/setup/setup.ts';
import { openSliced, slicedModelId, sliceQuantizedInputs } from '../../circuits/slicedModel.ts';
import { ProvingPool } from '../../prover/pool/provingPool.ts';
import { proveSliced } from '../../prover/proveSliced.ts';
import { proveSlicedAnswer } from '../../prover/slicedAnswer.ts';
import { verifySliced } from '../../verifier/verifySliced.ts';
import { benchPtau, fixtureCalibration, machine, ROOT, writeReport } from './benchLib.ts';

const name = process.argv[2] ?? 'gru-digits';
const max = Number(process.argv[3] ?? 8000);
const requests = Number(process.argv[4] ?? 3);
const withWhole = (process.argv[5] ?? 'yes') !== 'no';
const onnx = join(ROOT, 'test', 'fixtures', 'models', `${name}.onnx`);
const mib = () => Math.round(process.memoryUsage().rss / 2 ** 20);
/** This process's peak resident memory so far (pool workers are threads in it). */
const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);
const log = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

// 1. compile in slices, set up each with a dev ptau as large as its largest slice needs
const dir = join(ROOT, '.zkinfer-cache', 'bench', `${name}-sliced-${max}`);
const calibration = fixtureCalibration(name);
const compileOptions = { onProgress: log, ...(calibration ? { calibration } : {}) };
const compiled = await compileModel(onnx, { outDir: dir, maxConstraints: max, ...compileOptions });
if (!compiled.sliced) throw new Error(`${name} fits ${max} constraints: nothing to slice`);
let m = await openSliced(dir);
const setupSeconds = new Map<number, number>();
for (const [k, a] of m.slices.entries()) {
  if (a.manifest.setup && existsSync(a.paths.zkey)) continue;
  const power = requiredPower(a.manifest.circuit.constraints, a.manifest.circuit.publicInputs);
  const ptau = await benchPtau(power);
  log(`setting up ${a.dir} (${a.manifest.circuit.constraints} constraints, ptau 2^${power})`);
  const t = performance.now();
  await setupArtifacts(a.dir, ptau, log);
  setupSeconds.set(k, (performance.now() - t) / 1000);
}
m = await openSliced(dir);
const peakAfterSetupMiB = peakMiB();
const x = Array.from({ length: m.manifest.input.size }, (_, j) => ((j * 7) % 17) / 16);

// 2. each slice alone (one thread), and one request end to end with the CLI's prover, verified
interface SliceRow {
  slice: string;
  constraints: number;
  compileSeconds: number;
  circomPeakMiB?: number;
  setupSeconds?: number;
  proveMs: number;
  rssMiB: number;
}
const perSlice: SliceRow[] = [];
const bundle = await proveSliced(m, x, 1n);
bundle.slices.forEach((b, k) => {
  const c = m.slices[k]!.manifest.circuit;
  const setupS = setupSeconds.get(k);
  perSlice.push({
    slice: m.manifest.slices[k]!.dir,
    constraints: c.constraints,
    compileSeconds: c.compileSeconds,
    ...(c.compilePeakMiB ? { circomPeakMiB: c.compilePeakMiB } : {}),
    ...(setupS === undefined ? {} : { setupSeconds: Math.round(setupS * 10) / 10 }),
    proveMs: b.timings.witnessMs + b.timings.proveMs,
    rssMiB: mib(),
  });
});
const verified = await verifySliced(m, bundle, { input: x, binding: 1n });
if (!verified.ok) throw new Error(`the sliced proof does not verify: ${verified.detail}`);

// 3. request latency with 1 and 2 warm workers, through the miner's own path (one reference run
// for every boundary, then all slices submitted at once, largest first)
const served = {
  modelId: slicedModelId(m),
  sliced: m,
  graphs: await Promise.all(m.slices.map((a) => loadQuantGraph(a))),
};
const warmInputs = sliceQuantizedInputs(m, x);
const warmJobs = m.slices.map((a, k) => ({
  wasmPath: a.paths.wasm,
  zkeyPath: a.paths.zkey,
  sampleInput: { in: warmInputs[k]!.map((v) => toField(v).toString()), binding: '1' },
}));
const latency: Record<number, number[]> = {};
for (const workers of [1, 2]) {
  // every slice warm on every worker (64 MiB of tables each), as the miner keeps its circuits
  const pool = new ProvingPool({
    workers,
    maxQueue: Math.max(16, 2 * m.slices.length),
    initialProveMs: 1,
    maxModels: m.slices.length,
    tableBudgetBytes: 64 * 2 ** 20,
  });
  try {
    log(`warming ${workers} worker(s)`);
    await pool.warm(warmJobs);
    // one untimed request: the first witness of each slice after warming is 2-5x slower (JIT)
    await proveSlicedAnswer(pool, served, x, 1n, { deadlineMs: 3_600_000 });
    latency[workers] = [];
    for (let r = 0; r < requests; r++) {
      const t = performance.now();
      await proveSlicedAnswer(pool, served, x, BigInt(r + 2), { deadlineMs: 3_600_000 });
      latency[workers]!.push(performance.now() - t);
      log(`${workers} worker(s), request ${r + 1}: ${Math.round(latency[workers]!.at(-1)!)} ms`);
    }
  } finally {
    await pool.close();
  }
}
const peakAtEndMiB = peakMiB();
const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
const ratio = median(latency[2]!) / median(latency[1]!);

// 4. the same model as one circuit, where it still compiles
let whole: { constraints: number; proveMs: number } | undefined;
if (withWhole)
  try {
    const wdir = join(ROOT, '.zkinfer-cache', 'bench', `${name}-whole`);
    await compileModel(onnx, { outDir: wdir, maxConstraints: 2 ** 22, ...compileOptions });
    let a = await openArtifacts(wdir);
    if (!a.manifest.setup || !existsSync(a.paths.zkey)) {
      const power = requiredPower(a.manifest.circuit.constraints, a.manifest.circuit.publicInputs);
      log(`setting up the whole model (${a.manifest.circuit.constraints} constraints, ptau 2^${power})`);
      await setupArtifacts(wdir, await benchPtau(power), log);
      a = await openArtifacts(wdir);
    }
    const { proveOnce } = await import('../../prover/proveOnce.ts');
    const b = await proveOnce(a, x, 1n);
    whole = { constraints: a.manifest.circuit.constraints, proveMs: b.timings.witnessMs + b.timings.proveMs };
  } catch (e) {
    log(`the whole model as one circuit: ${(e as Error).message}`);
  }

const total = m.manifest.totalConstraints;
const circomPeak = Math.max(0, ...perSlice.map((p) => p.circomPeakMiB ?? 0));
const cell = (v: number | undefined, unit: string) => (v === undefined ? 'cached' : `${v} ${unit}`);
const md = [
  `# Sliced proving — ${name}`,
  '',
  `Measured ${new Date().toISOString()} on ${machine()}; budget ${max} constraints per slice; ${perSlice.length} slices, **${total.toLocaleString('en-US')} constraints in all** (2^${Math.log2(total).toFixed(2)}).`,
  '',
  '| slice | constraints | circom compile | circom peak memory | setup (dev ptau) | prove (witness + proof, one thread) | process RSS after (MiB) |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...perSlice.map(
    (s) =>
      `| ${s.slice} | ${s.constraints.toLocaleString('en-US')} | ${s.compileSeconds} s | ${s.circomPeakMiB ?? '?'} MiB | ${cell(s.setupSeconds, 's')} | ${s.proveMs} ms | ${s.rssMiB} |`,
  ),
  '',
  `One request (all ${perSlice.length} slices, warm pool: every worker keeps every slice prepared, with 64 MiB of tables each), median of ${requests}: **${Math.round(median(latency[1]!))} ms with 1 worker, ${Math.round(median(latency[2]!))} ms with 2** (ratio ${ratio.toFixed(2)}; the miner's path: one reference run for every boundary, then the slices submitted at once, largest first, proving in parallel, so the ratio is bounded below by the largest slice's share of the work).`,
  '',
  `Memory: circom peaks at ${circomPeak} MiB for the largest slice (one process per slice compiled at once); this process (setup, then the pool's worker threads) peaked at ${peakAfterSetupMiB} MiB through setup and ${peakAtEndMiB} MiB by the end, against ${Math.round(totalmem() / 2 ** 20)} MiB on this machine.`,
  '',
  whole
    ? `The same model as one circuit: ${whole.constraints.toLocaleString('en-US')} constraints, proved in ${whole.proveMs} ms (one thread), against ${perSlice.reduce((s, p) => s + p.proveMs, 0)} ms for its slices one after another.`
    : withWhole
      ? 'The same model as one circuit could not be proved here (see the log).'
      : `The same model as one circuit was not run (whole=no)${m.manifest.wholeConstraints ? `: it would be ${m.manifest.wholeConstraints.toLocaleString('en-US')} constraints (predicted), needing a 2^${requiredPower(m.manifest.wholeConstraints, m.manifest.outputs.length + 2)} ptau` : ''}.`,
  '',
].join('\n');
console.log(md);
console.error(
  `report: ${await writeReport(name === 'gru-digits' && max === 8000 ? `sliced-${name}` : `sliced-${name}-${max}`, md, { machine: machine(), max, total, perSlice, latency, peakAfterSetupMiB, peakAtEndMiB, whole })}`,
);
const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
await g.curve_bn128?.terminate();
