/**
 * Proofs per minute of the miner's pool (warm workers) for 1..cores workers, against the baseline of
 * one `snarkjs groth16 fullprove` process per proof (the Omron miner's method), in the same run;
 * and the pool with its default engine (native-cache) against the same pool proving with snarkjs.
 * Usage: node --import tsx scripts/bench/prove-throughput.ts [model] [proofsPerRun]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadQuantGraph } from '../../circuits/artifacts.ts';
import { toField } from '../../circuits/core/field.ts';
import { infer } from '../../circuits/core/inference.ts';
import { DEFAULT_ENGINE, type EngineName } from '../../prover/engine/engines.ts';
import { ProvingPool } from '../../prover/pool/provingPool.ts';
import { benchModel, machine, percentile, terminateCurve, writeReport } from './benchLib.ts';

const modelName = process.argv[2] ?? 'mlp-digits'; // the bundled model
const proofs = Number(process.argv[3] ?? 16);
const cores = availableParallelism();

interface Row {
  readonly method: string;
  readonly concurrency: number;
  readonly proofs: number;
  readonly seconds: number;
  readonly perMinute: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
}

const a = await benchModel(modelName);
const graph = await loadQuantGraph(a);
const inputs = Array.from({ length: proofs }, (_, i) => {
  const x = Array.from({ length: a.manifest.input.size }, (_, j) => ((i * 31 + j * 7) % 17) / 16);
  return { in: infer(graph, x).quantizedInput.map((v) => toField(v).toString()), binding: String(i + 1) };
});

async function runPool(
  workers: number,
  engine: EngineName = DEFAULT_ENGINE,
  cooperative = true,
): Promise<Row> {
  const pool = new ProvingPool({ workers, maxQueue: proofs, engine, cooperative });
  // warm every worker (wasm, prepared key) before timing, as a miner does at start-up
  await pool.warm([{ wasmPath: a.paths.wasm, zkeyPath: a.paths.zkey, sampleInput: inputs[0]! }]);
  await Promise.all(
    Array.from({ length: workers }, (_, i) =>
      pool.prove(
        { wasmPath: a.paths.wasm, zkeyPath: a.paths.zkey, circuitInput: inputs[i]! },
        { deadlineMs: 600_000 },
      ),
    ),
  );
  const started = performance.now();
  const latencies = await Promise.all(
    inputs.map(async (circuitInput) => {
      const t = performance.now();
      await pool.prove(
        { wasmPath: a.paths.wasm, zkeyPath: a.paths.zkey, circuitInput },
        { deadlineMs: 600_000 },
      );
      return performance.now() - t;
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return row(
    `pool, ${engine} engine (${workers} warm worker${workers > 1 ? 's' : ''}${cooperative ? '' : ', sharing off'})`,
    workers,
    seconds,
    latencies,
  );
}

/** One job at a time on an idle pool of every core: latency by one worker and shared by all. */
async function idleLatency(cooperative: boolean): Promise<Row> {
  const pool = new ProvingPool({ workers: cores, maxQueue: proofs, cooperative });
  await pool.warm([{ wasmPath: a.paths.wasm, zkeyPath: a.paths.zkey, sampleInput: inputs[0]! }]);
  await pool.prove(
    { wasmPath: a.paths.wasm, zkeyPath: a.paths.zkey, circuitInput: inputs[0]! },
    { deadlineMs: 600_000 },
  );
  const latencies: number[] = [];
  const started = performance.now();
  for (const circuitInput of inputs) {
    const t = performance.now();
    await pool.prove(
      { wasmPath: a.paths.wasm, zkeyPath: a.paths.zkey, circuitInput },
      { deadlineMs: 600_000 },
    );
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return row(
    `idle pool (${cores} workers), one job at a time, sharing ${cooperative ? 'on' : 'off'}`,
    1,
    seconds,
    latencies,
  );
}

async function runBaseline(concurrency: number, count: number): Promise<Row> {
  const cli = join(createRequire(import.meta.url).resolve('snarkjs'), '..', 'cli.cjs');
  const dir = await mkdtemp(join(tmpdir(), 'zkinfer-bench-'));
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const input = join(dir, `in${i}.json`);
        await writeFile(input, JSON.stringify(inputs[i % inputs.length]));
        const t = performance.now();
        await new Promise<void>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [
              cli,
              'groth16',
              'fullprove',
              input,
              a.paths.wasm,
              a.paths.zkey,
              join(dir, `p${i}.json`),
              join(dir, `s${i}.json`),
            ],
            { stdio: 'ignore' },
          );
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`snarkjs exited ${code}`))));
        });
        latencies.push(performance.now() - t);
      }
    }),
  );
  return row(
    `snarkjs fullprove, one process per proof`,
    concurrency,
    (performance.now() - started) / 1000,
    latencies,
  );
}

function row(method: string, concurrency: number, seconds: number, latencies: number[]): Row {
  return {
    method,
    concurrency,
    proofs: latencies.length,
    seconds: Math.round(seconds * 100) / 100,
    perMinute: Math.round((latencies.length / seconds) * 60 * 10) / 10,
    p50Ms: Math.round(percentile(latencies, 0.5)),
    p95Ms: Math.round(percentile(latencies, 0.95)),
  };
}

const rows: Row[] = [];
for (let w = 1; w <= cores; w++) {
  rows.push(await runPool(w));
  console.error(JSON.stringify(rows.at(-1)));
}
const fullLoadNoSharing = await runPool(cores, DEFAULT_ENGINE, false);
console.error(JSON.stringify(fullLoadNoSharing));
const idle = { off: await idleLatency(false), on: await idleLatency(true) };
console.error(JSON.stringify(idle));
const snarkjsPool = await runPool(cores, 'snarkjs');
console.error(JSON.stringify(snarkjsPool));
const baselineCount = Math.max(4, Math.ceil(proofs / 2));
rows.push(await runBaseline(1, baselineCount));
console.error(JSON.stringify(rows.at(-1)));
if (cores > 1) {
  rows.push(await runBaseline(cores, baselineCount));
  console.error(JSON.stringify(rows.at(-1)));
}
const pool1 = rows[0]!;
const poolMax = rows[cores - 1]!;
const baseSame = rows.at(-1)!;
const ratios = {
  engineVsSnarkjsPool: Math.round((poolMax.perMinute / snarkjsPool.perMinute) * 100) / 100,
  scaling: Math.round((poolMax.perMinute / pool1.perMinute) * 100) / 100,
  vsBaselineSameConcurrency: Math.round((poolMax.perMinute / baseSame.perMinute) * 100) / 100,
  vsBaselineOneProcess: Math.round((poolMax.perMinute / rows[cores]!.perMinute) * 100) / 100,
  fullLoadSharingOnVsOff: Math.round((poolMax.perMinute / fullLoadNoSharing.perMinute) * 100) / 100,
  idleLatencySharedVsOne: Math.round((idle.on.p50Ms / idle.off.p50Ms) * 100) / 100,
};
const md = [
  `# Proving throughput — ${modelName} (${a.manifest.circuit.constraints} constraints)`,
  '',
  `Measured ${new Date().toISOString()} on ${machine()}. ${proofs} proofs per pool run, ${baselineCount} per baseline run.`,
  '',
  '| method | concurrency | proofs | seconds | proofs/min | p50 ms | p95 ms |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...[...rows.slice(0, cores), fullLoadNoSharing, idle.off, idle.on, snarkjsPool, ...rows.slice(cores)].map(
    (r) =>
      `| ${r.method} | ${r.concurrency} | ${r.proofs} | ${r.seconds} | ${r.perMinute} | ${r.p50Ms} | ${r.p95Ms} |`,
  ),
  '',
  `- native-cache engine vs the same pool proving with snarkjs, ${cores} workers: **${ratios.engineVsSnarkjsPool}×**`,
  `- pool at ${cores} workers vs 1 worker: **${ratios.scaling}×**`,
  `- full load (every job submitted at once), sharing on vs off: **${ratios.fullLoadSharingOnVsOff}×** throughput (jobs under load take one worker each)`,
  `- idle pool, one job at a time, p50 latency shared vs one worker: **${ratios.idleLatencySharedVsOne}×** (circuits below 2^13 are never shared)`,
  `- pool at ${cores} workers vs one snarkjs process per proof, ${cores} at a time: **${ratios.vsBaselineSameConcurrency}×**`,
  `- pool at ${cores} workers vs one snarkjs process per proof, one at a time: **${ratios.vsBaselineOneProcess}×**`,
  '',
].join('\n');
const path = await writeReport(`prove-throughput-${modelName}`, md, {
  model: modelName,
  constraints: a.manifest.circuit.constraints,
  machine: machine(),
  rows: [...rows, fullLoadNoSharing, idle.off, idle.on, snarkjsPool],
  ratios,
});
console.log(md);
console.error(`report: ${path}`);
await terminateCurve();
