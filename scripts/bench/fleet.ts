/**
 * The prover fleet against the embedded pool, in one run on one machine: a miner process proving in
 * its own pool of 2 workers, against a miner in fleet mode with 2 prover-node processes of 1 worker
 * each behind a real redis-server. Per setup: throughput under a load of 2 requests per worker, and
 * the per-job overhead (answer time not spent in witness or proof) with one request per worker, so
 * no job waits for a worker. Then a sliced model's request latency with 1 node and with 2 (its
 * slices prove in parallel on different machines).
 * Usage: node --import tsx scripts/bench/fleet.ts [model=cnn-bn-digits] [requests=24] [sliced=gru-digits]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileModel } from '../../circuits/compile.ts';
import { requiredPower } from '../../circuits/setup/ptauInfo.ts';
import { setupArtifacts } from '../../circuits/setup/setup.ts';
import { openSliced, slicedModelId } from '../../circuits/slicedModel.ts';
import { callAxon } from '../../protocol/dendrite.ts';
import { type Hotkey, hotkeyFromUri } from '../../protocol/keys.ts';
import type { ProveInferenceResponse } from '../../protocol/synapses.ts';
import { type NodeProcess, startNodeProcess } from '../../prover/fleet/nodeProcess.ts';
import { type MinerProcess, startMinerProcess } from '../../prover/minerProcess.ts';
import { redisServerBinary, startRedisServer } from '../../test/helpers/redisServer.ts';
import {
  benchModel,
  benchPtau,
  fixtureCalibration,
  machine,
  percentile,
  ROOT,
  terminateCurve,
  writeReport,
} from './benchLib.ts';

const modelName = process.argv[2] ?? 'cnn-bn-digits';
const requests = Number(process.argv[3] ?? 24);
const slicedName = process.argv[4] ?? 'gru-digits';
const log = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const binary = redisServerBinary();
if ('missing' in binary) throw new Error(binary.missing);

const a = await benchModel(modelName);
const sliced = await slicedModel(slicedName, 8000);
const validator = await hotkeyFromUri('//BenchFleetValidator');
const redis = await startRedisServer(binary.path);

/** A fixture compiled in slices of at most `max` constraints, each set up once (cached). */
async function slicedModel(name: string, max: number) {
  const dir = join(ROOT, '.zkinfer-cache', 'bench', `${name}-sliced-${max}`);
  const calibration = fixtureCalibration(name);
  await compileModel(join(ROOT, 'test', 'fixtures', 'models', `${name}.onnx`), {
    outDir: dir,
    maxConstraints: max,
    ...(calibration ? { calibration } : {}),
  });
  for (const s of (await openSliced(dir)).slices) {
    if (s.manifest.setup && existsSync(s.paths.zkey)) continue;
    const power = requiredPower(s.manifest.circuit.constraints, s.manifest.circuit.publicInputs);
    log(`setting up ${s.dir} (2^${power})`);
    await setupArtifacts(s.dir, await benchPtau(power));
  }
  const m = await openSliced(dir);
  return { dir, m, modelId: slicedModelId(m) };
}

let nonce = 0;
function prove(miner: MinerProcess, key: Hotkey, modelId: string, size: number, i: number) {
  return callAxon<ProveInferenceResponse>(
    miner.url,
    'ProveInference',
    {
      modelId,
      input: Array.from({ length: size }, (_, j) => ((i * 31 + j * 7) % 17) / 16),
      binding: { nonce: String(++nonce), validatorHotkey: key.ss58, minerHotkey: miner.hotkey },
      deadlineMs: 120_000,
    },
    { hotkey: key, axonHotkey: miner.hotkey, timeoutMs: 120_000 },
  );
}

/** `total` requests with `concurrency` in flight: seconds, and each answer's queue / prove times. */
async function load(miner: MinerProcess, modelId: string, size: number, total: number, concurrency: number) {
  const times: { totalMs: number; queueMs: number }[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        const r = await prove(miner, validator, modelId, size, i);
        if (!r.ok) throw new Error(`request ${i} failed: ${r.detail}`);
        times.push({ totalMs: performance.now() - t, queueMs: r.body.timings.queueMs });
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, times };
}

interface Row {
  readonly setup: string;
  readonly perMinute: number;
  readonly p50Ms: number;
  readonly overheadP50Ms: number;
  readonly overheadMeanMs: number;
}

async function measure(setup: string, miner: MinerProcess): Promise<Row> {
  const modelId = a.manifest.setup!.modelId;
  const size = a.manifest.input.size;
  await load(miner, modelId, size, 4, 2); // warm the path (first proofs build per-input tables)
  // overhead: one request per worker, so no job waits for a worker
  const quiet = await load(miner, modelId, size, Math.max(8, requests / 2), 2);
  const overheads = quiet.times.map((t) => t.queueMs);
  const busy = await load(miner, modelId, size, requests, 4);
  const row: Row = {
    setup,
    perMinute: Math.round((requests / busy.seconds) * 60),
    p50Ms: Math.round(
      percentile(
        busy.times.map((t) => t.totalMs),
        0.5,
      ),
    ),
    overheadP50Ms: Math.round(percentile(overheads, 0.5)),
    overheadMeanMs: Math.round(overheads.reduce((s, x) => s + x, 0) / overheads.length),
  };
  log(`${setup}: ${JSON.stringify(row)}`);
  return row;
}

const minerConfig = (extra: Record<string, unknown>) => ({
  hotkey: { uri: '//BenchFleetMiner' },
  models: [a.dir, sliced.dir],
  allowedHotkeys: [validator.ss58],
  maxQueue: 16,
  ...extra,
});
const nodeConfig = (id: string) => ({
  redis: redis.url,
  fleet: 'bench',
  nodeId: id,
  models: [a.dir, sliced.dir],
  workers: 1,
});
async function waitForWorkers(miner: MinerProcess, workers: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await callAxon<{ workers: number }>(
      miner.url,
      'Capacity',
      {},
      {
        hotkey: validator,
        axonHotkey: miner.hotkey,
        timeoutMs: 5000,
      },
    );
    if (r.ok && r.body.workers === workers) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`the fleet never reached ${workers} workers`);
}

/** Median request latency of the sliced model, one request at a time. */
async function slicedLatency(miner: MinerProcess, n = 5): Promise<number> {
  const size = sliced.m.manifest.input.size;
  await load(miner, sliced.modelId, size, 1, 1);
  const r = await load(miner, sliced.modelId, size, n, 1);
  return Math.round(
    percentile(
      r.times.map((t) => t.totalMs),
      0.5,
    ),
  );
}

/** Resident memory of a process (Linux), MiB. */
function rssMiB(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

const slicedRows: { setup: string; medianMs: number }[] = [];
const nodes: NodeProcess[] = [];
const embeddedRows: Row[] = [];
const fleetRows: Row[] = [];
let nodeRss = 0;
try {
  // both setups stay up (idle while the other is measured) and are measured in turns, so a drift of
  // the machine's speed during the run weighs on both alike
  log(
    'starting an embedded miner (a pool of 2 workers), and a miner in fleet mode with 2 prover-node processes of 1 worker',
  );
  const embedded = await startMinerProcess(minerConfig({ workers: 2 }));
  const fleetMiner = await startMinerProcess(minerConfig({ redis: redis.url, fleet: 'bench' }));
  try {
    nodes.push(await startNodeProcess(nodeConfig('bench-node-1')));
    nodeRss = rssMiB(nodes[0]!.child.pid);
    nodes.push(await startNodeProcess(nodeConfig('bench-node-2')));
    await waitForWorkers(fleetMiner, 2);
    for (let round = 0; round < 3; round++) {
      embeddedRows.push(await measure('embedded pool, 2 workers', embedded));
      fleetRows.push(await measure('fleet, 2 nodes × 1 worker', fleetMiner));
    }
    slicedRows.push({ setup: 'embedded pool, 2 workers', medianMs: await slicedLatency(embedded) });
    slicedRows.push({ setup: 'fleet, 2 nodes × 1 worker', medianMs: await slicedLatency(fleetMiner) });
    await nodes.pop()!.stop();
    await waitForWorkers(fleetMiner, 1);
    slicedRows.push({ setup: 'fleet, 1 node × 1 worker', medianMs: await slicedLatency(fleetMiner) });
  } finally {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await Promise.allSettled([embedded.stop(), fleetMiner.stop()]);
  }
} finally {
  await redis.stop();
}

/** The round with the median throughput. */
const median = (r: Row[]) => [...r].sort((x, y) => x.perMinute - y.perMinute)[Math.floor(r.length / 2)]!;
const rows = [median(embeddedRows), median(fleetRows)];
const [base, fleet] = rows as [Row, Row];
const ratio = fleet.perMinute / base.perMinute;
const s = Object.fromEntries(slicedRows.map((r) => [r.setup, r.medianMs]));
const s1 = s['fleet, 1 node × 1 worker']!;
const s2 = s['fleet, 2 nodes × 1 worker']!;
const md = [
  `# Prover fleet — ${a.manifest.name} (${a.manifest.circuit.constraints} constraints)`,
  '',
  `Measured ${new Date().toISOString()} on ${machine()}, all in one run: a miner process with its own pool against a miner in fleet mode (BullMQ on a local redis-server) whose proofs are made by prover-node processes. Every process shares the machine's cores, the fleet's axon and Redis included.`,
  '',
  'Three rounds of each setup, taken in turns; the round with the median throughput:',
  '',
  '| setup | proofs/min (4 in flight) | p50 answer ms | overhead per job p50 ms | mean ms |',
  '|---|---:|---:|---:|---:|',
  ...rows.map(
    (r) => `| ${r.setup} | ${r.perMinute} | ${r.p50Ms} | ${r.overheadP50Ms} | ${r.overheadMeanMs} |`,
  ),
  '',
  `All rounds, proofs/min: embedded ${embeddedRows.map((r) => r.perMinute).join(', ')}; fleet ${fleetRows.map((r) => r.perMinute).join(', ')}.`,
  '',
  `Fleet throughput / embedded: **${ratio.toFixed(2)}** (overhead ${((1 - ratio) * 100).toFixed(1)}%; target ≤ 10%). Overhead per job is the answer's queueMs with one request per worker (no job waits for a worker): time not spent in witness or proof — the pool's hand-off in the embedded miner; the queue, Redis round trips and the result's event in the fleet. Queue overhead of the fleet over the pool: **${fleet.overheadP50Ms - base.overheadP50Ms} ms per job** (p50).`,
  '',
  `A sliced model, ${sliced.m.manifest.name} (${sliced.m.slices.length} slices, ${sliced.m.manifest.totalConstraints.toLocaleString('en-US')} constraints), one request at a time, median of 5:`,
  '',
  '| setup | request latency ms |',
  '|---|---:|',
  ...slicedRows.map((r) => `| ${r.setup} | ${r.medianMs} |`),
  '',
  `2 nodes / 1 node: **${(s2 / s1).toFixed(2)}** (the slices of one request prove on both nodes at once).`,
  '',
  `Sizing: a prover-node process with 1 worker and both models warm (${a.manifest.name} and the ${sliced.m.slices.length} slices) holds ${nodeRss} MiB resident.`,
  '',
];
const path = await writeReport('fleet', md.join('\n'), {
  machine: machine(),
  rows,
  sliced: slicedRows,
  ratio,
});
console.error(`report: ${path}`);
await terminateCurve(); // compile and set-up leave snarkjs's curve threads running
