/**
 * One proof, one thread: the native-cache engine against `snarkjs.groth16.prove` from the same
 * in-memory zkey and the same witness, in the same run, on the bundled model and on ~2^14 and
 * ~2^16 constraint circuits. Reports the engine's phases and its memory per cached model.
 *
 * Usage: node --import tsx scripts/bench/engine.ts [--quick]
 *   --quick: the bundled model only (no large ptau needed).
 * The ~2^14 and ~2^16 circuits need a 2^16 dev ptau, made once under .zkinfer-cache/ptau.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBn128 } from 'ffjavascript';
import * as snarkjs from 'snarkjs';
import { type Artifacts, loadQuantGraph } from '../../circuits/artifacts.ts';
import { toField } from '../../circuits/core/field.ts';
import { infer } from '../../circuits/core/inference.ts';
import { type PhaseTimes, PreparedModel } from '../../prover/engine/cachedProver.ts';
import { ProvingPool } from '../../prover/pool/provingPool.ts';
import { loadWitnessCalculator } from '../../prover/witnessCalculator.ts';
import { buildOnnx } from '../../test/helpers/onnxBuilder.ts';
import { benchModel, benchPtau, machine, percentile, ROOT, writeReport } from './benchLib.ts';

const quick = process.argv.includes('--quick');

/**
 * A ~2^16 circuit: 28×28 input, a 3×3 convolution to `channels` maps, ReLU, a dense layer to 10,
 * seeded random weights. Many activations from few weights (circom keeps every weight of a wide
 * dense layer in memory and runs out of it long before 2^16 constraints).
 */
async function convNet(channels: number): Promise<string> {
  const path = join(ROOT, '.zkinfer-cache', 'bench', `conv-net-${channels}.onnx`);
  if (existsSync(path)) return path;
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const features = channels * 28 * 28;
  const bytes = buildOnnx({
    input: { name: 'x', shape: [1, 1, 28, 28] },
    output: 'y',
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'w1', 'b1'],
        outputs: ['c'],
        attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
      },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'Flatten', inputs: ['r'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'w2', 'b2'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    initializers: {
      w1: { dims: [channels, 1, 3, 3], data: Array.from({ length: channels * 9 }, () => rand()) },
      b1: { dims: [channels], data: Array.from({ length: channels }, () => rand() * 0.1) },
      w2: { dims: [10, features], data: Array.from({ length: 10 * features }, () => rand() * 0.05) },
      b2: { dims: [10], data: Array.from({ length: 10 }, () => rand() * 0.1) },
    },
  });
  await mkdir(join(ROOT, '.zkinfer-cache', 'bench'), { recursive: true });
  await writeFile(path, bytes);
  return path;
}

interface Case {
  readonly label: string;
  readonly a: Artifacts;
  readonly reps: number;
}

const cases: Case[] = [{ label: 'bundled model (mlp-digits)', a: await benchModel('mlp-digits'), reps: 10 }];
if (!quick) {
  const ptau = await benchPtau(16);
  cases.push({ label: '~2^14 (mlp784)', a: await benchModel('mlp784', { ptau }), reps: 5 });
  cases.push({
    label: '~2^16 (28×28 conv, 2 maps, dense)',
    a: await benchModel('conv-net-2', { onnx: await convNet(2), ptau }),
    reps: 3,
  });
}

const curve = await buildBn128(true);
(globalThis as { curve_bn128?: unknown }).curve_bn128 = curve; // snarkjs: one thread, like a pool worker

const median = (xs: readonly number[]) => percentile(xs, 0.5);
const round = (x: number) => Math.round(x * 10) / 10;

interface Result {
  readonly label: string;
  readonly constraints: number;
  readonly domain: number;
  readonly witnessMs: number;
  readonly snarkjsMs: number;
  readonly engineMs: number;
  readonly speedup: number;
  readonly prepareMs: number;
  readonly zkeyMB: number;
  readonly engineMB: number;
  readonly hTable: { rows: number; c: number };
  readonly phases: Record<keyof PhaseTimes, number>;
  readonly allVerified: boolean;
}

const results: Result[] = [];
const inputs = new Map<string, Record<string, string | string[]>>();
for (const { label, a, reps } of cases) {
  const zkey = new Uint8Array(await readFile(a.paths.zkey));
  const vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8'));
  const graph = await loadQuantGraph(a);
  const wc = await loadWitnessCalculator(a.paths.wasm);
  const x = Array.from({ length: a.manifest.input.size }, (_, j) => ((j * 7) % 17) / 16);
  const circuitInput = { in: infer(graph, x).quantizedInput.map((v) => toField(v).toString()), binding: '7' };
  inputs.set(label, circuitInput);
  const witnessTimes: number[] = [];
  let wtns: Uint8Array = new Uint8Array();
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    wtns = await wc.calculateWTNSBin(circuitInput, true);
    witnessTimes.push(performance.now() - t);
  }

  // snarkjs from the in-memory zkey is what a warm worker did before this engine. The two are
  // measured alternately, so load on the machine falls on both alike.
  const model = await PreparedModel.prepare(zkey);
  model.proveWtns(wtns); // warm-up: JIT, and the tables learned from a witness
  await snarkjs.groth16.prove({ type: 'mem', data: zkey }, { type: 'mem', data: wtns }); // warm-up
  const snark: number[] = [];
  const times: number[] = [];
  const phases: PhaseTimes[] = [];
  let allVerified = true;
  for (let i = 0; i < reps; i++) {
    let t = performance.now();
    await snarkjs.groth16.prove({ type: 'mem', data: zkey }, { type: 'mem', data: wtns });
    snark.push(performance.now() - t);
    t = performance.now();
    const r = model.proveWtns(wtns);
    times.push(performance.now() - t);
    phases.push(r.phases);
    allVerified &&= await snarkjs.groth16.verify(vkey, r.publicSignals, r.proof);
  }
  const phaseMedians = Object.fromEntries(
    (Object.keys(phases[0]!) as (keyof PhaseTimes)[]).map((k) => [
      k,
      round(median(phases.map((p) => p[k] ?? 0))),
    ]),
  ) as Record<keyof PhaseTimes, number>;
  const r: Result = {
    label,
    constraints: a.manifest.circuit.constraints,
    domain: model.key.domainSize,
    witnessMs: round(median(witnessTimes)),
    snarkjsMs: round(median(snark)),
    engineMs: round(median(times)),
    speedup: Math.round((median(snark) / median(times)) * 100) / 100,
    prepareMs: Math.round(model.prepareMs),
    zkeyMB: round(zkey.byteLength / 2 ** 20),
    engineMB: round(model.memoryBytes / 2 ** 20),
    hTable: model.hTable,
    phases: phaseMedians,
    allVerified,
  };
  results.push(r);
  console.error(JSON.stringify(r));
}

// One proof on an idle pool of 2 workers: by one worker (cooperative: false) and shared by both,
// alternately, whole jobs (witness + proof) as a miner sees them.
interface Shared {
  readonly label: string;
  readonly oneMs: number;
  readonly twoMs: number;
  readonly oneProveMs: number;
  readonly twoProveMs: number;
  readonly allVerified: boolean;
  /** Workers the "two" pool's proofs were shared by (1: not shared, a circuit below 2^13). */
  readonly sharedBy: number;
}
const shared: Shared[] = [];
for (const { label, a, reps } of cases) {
  const vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8'));
  const job = { wasmPath: a.paths.wasm, zkeyPath: a.paths.zkey, circuitInput: inputs.get(label)! };
  const one = new ProvingPool({ workers: 2, cooperative: false });
  const two = new ProvingPool({ workers: 2 });
  try {
    for (const p of [one, two]) {
      await p.warm([{ ...job, sampleInput: job.circuitInput }]);
      await p.prove(job, { deadlineMs: 600_000 }); // JIT of the part functions
    }
    const t: Record<'one' | 'two', number[]> = { one: [], two: [] };
    const prove: Record<'one' | 'two', number[]> = { one: [], two: [] };
    let allVerified = true;
    let sharedBy = 0;
    for (let i = 0; i < Math.max(5, reps); i++) {
      for (const [k, p] of [
        ['one', one],
        ['two', two],
      ] as const) {
        const t0 = performance.now();
        const r = await p.prove(job, { deadlineMs: 600_000 });
        t[k].push(performance.now() - t0);
        prove[k].push(r.timings.proveMs);
        if (k === 'two') sharedBy = r.cooperative ?? 1;
        allVerified &&= await snarkjs.groth16.verify(vkey, r.publicSignals, r.proof);
      }
    }
    shared.push({
      label,
      oneMs: round(median(t.one)),
      twoMs: round(median(t.two)),
      oneProveMs: round(median(prove.one)),
      twoProveMs: round(median(prove.two)),
      allVerified,
      sharedBy,
    });
    console.error(JSON.stringify(shared.at(-1)));
  } finally {
    await one.close();
    await two.close();
  }
}

const md = [
  '# Proving engine — one proof, one thread',
  '',
  `Measured ${new Date().toISOString()} on ${machine()}. Same zkey (in memory) and same witness for both;`,
  'medians of the repetitions; snarkjs runs on a single-threaded curve, as in a pool worker.',
  '',
  '| circuit | constraints | domain | snarkjs.groth16.prove ms | native-cache ms | speed-up | all proofs verify |',
  '|---|---:|---:|---:|---:|---:|---|',
  ...results.map(
    (r) =>
      `| ${r.label} | ${r.constraints} | 2^${Math.log2(r.domain)} | ${r.snarkjsMs} | ${r.engineMs} | **${r.speedup}×** | ${r.allVerified ? 'yes' : 'NO'} |`,
  ),
  '',
  '## Where the engine spends a proof (ms, medians)',
  '',
  '| circuit | witness | A/B/C | FFT (6) | MSM A | MSM B1 | MSM B2 (G2) | MSM C | MSM H | finish |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.label} | ${r.witnessMs} | ${r.phases.abcMs} | ${r.phases.fftMs} | ${r.phases.msmAMs} | ${r.phases.msmB1Ms} | ${r.phases.msmB2Ms} | ${r.phases.msmCMs} | ${r.phases.msmHMs} | ${r.phases.finishMs} |`,
  ),
  '',
  "The witness is computed once per proof by either engine (circom's WASM calculator) and is not in",
  'the prove columns above.',
  '',
  '## Memory and warm-up per cached model',
  '',
  '| circuit | zkey MB | engine memory MB | H table (rows × window) | prepare ms (once per model and worker) |',
  '|---|---:|---:|---|---:|',
  ...results.map(
    (r) =>
      `| ${r.label} | ${r.zkeyMB} | ${r.engineMB} | ${r.hTable.rows} × ${r.hTable.c} bits | ${r.prepareMs} |`,
  ),
  '',
  'Each worker holds its own prepared copy of a model: the engine memory above is also what every',
  'additional worker adds for that model.',
  '',
  '## One proof shared by two idle workers (pool, whole jobs)',
  '',
  'An idle 2-worker pool proving one job at a time, by one worker (`cooperative: false`) and shared by',
  'both (engine/cooperative.ts), alternately; medians. The witness is computed by one worker either way.',
  '',
  '| circuit | 1 worker: job ms (prove) | 2 workers: job ms (prove) | shared by | ratio, job | ratio, prove | all proofs verify |',
  '|---|---:|---:|---:|---:|---:|---|',
  ...shared.map(
    (r) =>
      `| ${r.label} | ${r.oneMs} (${r.oneProveMs}) | ${r.twoMs} (${r.twoProveMs}) | ${r.sharedBy === 1 ? '1 (below 2^13: not shared)' : `${r.sharedBy} workers`} | **${(r.twoMs / r.oneMs).toFixed(2)}** | ${(r.twoProveMs / r.oneProveMs).toFixed(2)} | ${r.allVerified ? 'yes' : 'NO'} |`,
  ),
  '',
].join('\n');
const path = await writeReport('engine', md, { machine: machine(), results, shared });
console.log(md);
console.error(`report: ${path}`);
await curve.terminate();
