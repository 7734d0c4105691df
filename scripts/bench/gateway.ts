/**
 * Gateway overhead: organic requests from 1 and from 8 concurrent clients through a real gateway
 * to a real miner, against the baseline of the same miner asked directly by the validator (what a
 * round does per miner: challenge, signed call, verification), measured in the same run.
 * Overhead of a request = client-side latency − the miner's own time (queue + witness + proof).
 * Usage: node --import tsx scripts/bench/gateway.ts [requests per client = 10] [workers = 2]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hotkeyFromUri } from '../../protocol/keys.ts';
import { startMinerProcess } from '../../prover/minerProcess.ts';
import { GatewayClient } from '../../verifier/gateway/client.ts';
import { Gateway } from '../../verifier/gateway/gateway.ts';
import { parseGatewayConfig } from '../../verifier/gateway/gatewayConfig.ts';
import { GatewayStore } from '../../verifier/gateway/gatewayStore.ts';
import { PRIORITY, Validator } from '../../verifier/validator.ts';
import { parseValidatorConfig } from '../../verifier/validatorConfig.ts';
import { benchModel, machine, percentile, terminateCurve, writeReport } from './benchLib.ts';

const perClient = Number(process.argv[2] ?? 10);
const workers = Number(process.argv[3] ?? 2);
const log = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

interface Sample {
  readonly latencyMs: number;
  readonly minerMs: number;
}

const a = await benchModel('mlp-digits');
const validatorKey = await hotkeyFromUri('//BenchGatewayValidator');
const miner = await startMinerProcess({
  hotkey: { uri: '//BenchGatewayMiner' },
  models: [a.dir],
  workers,
  maxQueue: 64,
  allowedHotkeys: [validatorKey.ss58],
});
const work = await mkdtemp(join(tmpdir(), 'zkinfer-bench-gateway-'));
const rows: { path: string; clients: number; samples: Sample[] }[] = [];
try {
  const v = await Validator.open(
    parseValidatorConfig({
      hotkey: { uri: '//BenchGatewayValidator' },
      db: join(work, 'validator.db'),
      models: [a.dir],
      miners: [{ hotkey: miner.hotkey, url: miner.url }],
      timeoutMs: 120_000,
    }),
  );
  const config = parseGatewayConfig({
    validator: {},
    db: join(work, 'gateway.db'),
    port: 0,
    syntheticRounds: false,
    auth: { open: true, openQuotaPerMinute: 100_000 },
  });
  const store = new GatewayStore(config.db);
  const gw = new Gateway(config, v, store);
  const url = await gw.start();
  const client = new GatewayClient(url);
  const model = v.modelList()[0]!;
  const input = (k: number) =>
    Array.from({ length: a.manifest.input.size }, (_, j) => ((j * 7 + k * 13) % 17) / 16);
  let k = 0;

  /** The baseline: the validator asks the miner directly and verifies, as in a round. */
  const direct = async (): Promise<Sample> => {
    const m = (await v.miners())[0]!;
    const c = await v.challengeFor(m, model, input(k++));
    const started = performance.now();
    const answer = await v.ask(c, PRIORITY.organic);
    const outcome = await v.judge(c, answer);
    const latencyMs = performance.now() - started;
    if (outcome.kind !== 'verified' || !answer.ok)
      throw new Error(`direct call not verified: ${JSON.stringify(outcome)}`);
    const t = answer.body.timings;
    return { latencyMs, minerMs: t.queueMs + t.witnessMs + t.proveMs };
  };
  const viaGateway = async (): Promise<Sample> => {
    const started = performance.now();
    const r = await client.infer(model.modelId, input(k++));
    const latencyMs = performance.now() - started;
    const t = r.proverTimings;
    return { latencyMs, minerMs: t.queueMs + t.witnessMs + t.proveMs };
  };
  const run = async (path: string, fn: () => Promise<Sample>, clients: number) => {
    const samples: Sample[] = [];
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < perClient; i++) samples.push(await fn());
      }),
    );
    rows.push({ path, clients, samples });
    const o = samples.map((s) => s.latencyMs - s.minerMs);
    log(
      `${path}, ${clients} client(s): latency p50 ${percentile(
        samples.map((s) => s.latencyMs),
        0.5,
      ).toFixed(0)} ms, overhead p50 ${percentile(o, 0.5).toFixed(1)} ms`,
    );
  };
  await run('warm-up', viaGateway, 1);
  rows.length = 0;
  for (const clients of [1, 8]) {
    await run('direct (validator → miner)', direct, clients);
    await run('gateway (client → gateway → miner)', viaGateway, clients);
  }
  await gw.stop();
  store.close();
  v.close();
} finally {
  await miner.stop();
  await rm(work, { recursive: true, force: true });
  await terminateCurve();
}

const stat = (samples: readonly Sample[]) => {
  const lat = samples.map((s) => s.latencyMs);
  const over = samples.map((s) => s.latencyMs - s.minerMs);
  return {
    n: samples.length,
    latencyP50: percentile(lat, 0.5),
    latencyP95: percentile(lat, 0.95),
    overheadP50: percentile(over, 0.5),
    overheadP95: percentile(over, 0.95),
  };
};
const table = rows.map((r) => ({ path: r.path, clients: r.clients, ...stat(r.samples) }));
const ratio = (clients: number) => {
  const d = table.find((t) => t.clients === clients && t.path.startsWith('direct'))!;
  const g = table.find((t) => t.clients === clients && t.path.startsWith('gateway'))!;
  return { latency: g.latencyP50 / d.latencyP50, overheadMs: g.overheadP50 - d.overheadP50 };
};
const md = [
  '# Gateway overhead',
  '',
  `Measured ${new Date().toISOString()} on ${machine()}: mlp-digits (${a.manifest.circuit.constraints} constraints), one miner process with ${workers} pool workers, ${perClient} requests per client. Baseline, same run: the validator asking the miner directly and verifying (a round's path for one miner).`,
  '',
  "Overhead = latency seen by the caller − the miner's own time for that request (queue + witness + proof, as it reports them): signing, HTTP, the validator's checks and pairing, storing the result.",
  '',
  '| path | clients | requests | latency p50 (ms) | latency p95 (ms) | overhead p50 (ms) | overhead p95 (ms) |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...table.map(
    (t) =>
      `| ${t.path} | ${t.clients} | ${t.n} | ${t.latencyP50.toFixed(0)} | ${t.latencyP95.toFixed(0)} | ${t.overheadP50.toFixed(1)} | ${t.overheadP95.toFixed(1)} |`,
  ),
  '',
  ...[1, 8].map((c) => {
    const r = ratio(c);
    return `- ${c} client(s): gateway latency p50 = ${r.latency.toFixed(3)}× the direct path's; the gateway adds ${r.overheadMs.toFixed(1)} ms of overhead at p50.`;
  }),
  '',
  `Overhead common to both paths grows with concurrency when the miner's ${workers} pool workers fill the machine's ${cpus().length} cores: the miner's HTTP handling and the validator's pairing checks then wait for CPU. What the gateway itself adds is the difference between the two rows.`,
  '',
];
console.error(
  `report: ${await writeReport('gateway', md.join('\n'), { machine: machine(), perClient, workers, table })}`,
);
