import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { compileModel } from '../circuits/compile.ts';
import { setupArtifacts } from '../circuits/setup/setup.ts';
import { openSliced, type SlicedModel, slicedModelId } from '../circuits/slicedModel.ts';
import { computeBinding } from '../protocol/binding.ts';
import { callAxon } from '../protocol/dendrite.ts';
import { type Hotkey, hotkeyFromUri } from '../protocol/keys.ts';
import type { CapacityResponse, ProveInferenceResponse } from '../protocol/synapses.ts';
import { fleetNames, redisOptions } from '../prover/fleet/fleetNames.ts';
import { readFleetStatus } from '../prover/fleet/fleetStatus.ts';
import { type NodeProcess, startNodeProcess } from '../prover/fleet/nodeProcess.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { verifyProof } from '../verifier/verifyProof.ts';
import { slicedBundleOf, verifySliced } from '../verifier/verifySliced.ts';
import { zkinferInProcess } from './helpers/cli.ts';
import { DEV_PTAU, digitsHoldout, holdoutInputs, MODELS_DIR } from './helpers/fixtures.ts';
import { setUpModel } from './helpers/provedModel.ts';
import { type RedisServer, redisServerBinary, startRedisServer } from './helpers/redisServer.ts';

// A real redis-server, a miner in fleet mode and two prover-node processes, all on 127.0.0.1.
const binary = redisServerBinary();
if ('missing' in binary) console.warn(`fleet tests skipped: ${binary.missing}`);

const FLEET = 'test-fleet';
let redis: RedisServer;
let a: Artifacts;
let sliced: SlicedModel; // deep-mlp-digits in 3 slices
let vkey: unknown;
let miner: MinerProcess;
let validator: Hotkey;
const nodes: NodeProcess[] = [];

/** Short locks and beats, so a lost node's job goes to the other node soon after. */
const nodeConfig = (id: string, dir: string) => ({
  redis: redis.url,
  fleet: FLEET,
  nodeId: id,
  models: [dir, sliced.dir],
  workers: 1,
  lockDurationMs: 1500,
  stalledIntervalMs: 500,
  heartbeatMs: 300,
});
/**
 * Test hook: while a node's hold file exists it keeps the jobs it took without proving them, so a
 * test can see which node took what (and kill one while it holds a job) whatever the machine's load.
 */
let holdDir: string;
const holdFile = (id: string) => join(holdDir, id);
const hooks = (id: string) => ({ ZKINFER_TEST_HOOKS: '1', ZKINFER_TEST_NODE_HOLD_FILE: holdFile(id) });
const hold = (...ids: string[]) => Promise.all(ids.map((id) => writeFile(holdFile(id), '')));
const release = (...ids: string[]) => Promise.all(ids.map((id) => rm(holdFile(id), { force: true })));
/** Waits until the node holds a job (its /health counts the jobs it has taken). */
const holding = (n: NodeProcess) =>
  until(`${n.id} holding a job`, async () => {
    const h = (await (await fetch(`${n.url}/health`)).json()) as { inFlight: number };
    return h.inFlight > 0 ? true : undefined;
  });

// deadlines and waits here only keep a broken run from hanging: no test depends on how fast it is
const call = <T>(synapse: string, body: unknown) =>
  callAxon<T>(miner.url, synapse, body, { hotkey: validator, axonHotkey: miner.hotkey, timeoutMs: 90_000 });
let nonce = 0;
const prove = (i: number, deadlineMs = 60_000) =>
  call<ProveInferenceResponse>('ProveInference', {
    modelId: a.manifest.setup!.modelId,
    input: Array.from(holdoutInputs('mlp-digits')[i % 50]!),
    binding: { nonce: String(++nonce), validatorHotkey: validator.ss58, minerHotkey: miner.hotkey },
    deadlineMs,
  });
/** The sum of a metric's samples matching `pattern` on a /metrics page (HELP and TYPE lines never match). */
const metric = async (url: string, pattern: RegExp | string) => {
  const source = typeof pattern === 'string' ? pattern : pattern.source;
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${source}$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
};
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const fleetWorkers = async () => {
  const r = await call<CapacityResponse>('Capacity', {});
  return r.ok ? r.body.workers : -1;
};

describe.skipIf('missing' in binary)('prover fleet: a miner, two prover nodes, one real Redis', () => {
  beforeAll(async () => {
    if ('missing' in binary) return;
    redis = await startRedisServer(binary.path);
    holdDir = await mkdtemp(join(tmpdir(), 'zkinfer-fleet-hold-'));
    a = await setUpModel('mlp-digits');
    const slicedDir = join(await mkdtemp(join(tmpdir(), 'zkinfer-fleet-sliced-')), 'deep-mlp');
    await compileModel(join(MODELS_DIR, 'deep-mlp-digits.onnx'), { outDir: slicedDir, maxConstraints: 1800 });
    for (const s of (await openSliced(slicedDir)).slices) await setupArtifacts(s.dir, DEV_PTAU);
    sliced = await openSliced(slicedDir);
    vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8'));
    validator = await hotkeyFromUri('//Alice');
    miner = await startMinerProcess({
      hotkey: { uri: '//FleetMiner' },
      models: [a.dir, sliced.dir],
      redis: redis.url,
      fleet: FLEET,
      allowedHotkeys: [validator.ss58],
    });
    nodes.push(
      ...(await Promise.all([
        startNodeProcess(nodeConfig('node-a', a.dir), hooks('node-a')),
        startNodeProcess(nodeConfig('node-b', a.dir), hooks('node-b')),
      ])),
    );
  }, 300_000);

  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await miner?.stop();
    await redis?.stop();
  });

  it('answers Capacity with the fleet: both nodes, their workers, the model they hold', async () => {
    await until('both nodes in Capacity', async () => ((await fleetWorkers()) === 2 ? true : undefined));
    const r = await call<CapacityResponse>('Capacity', {});
    expect(r.ok && r.body).toMatchObject({
      workers: 2,
      maxQueue: 4,
      models: [
        { modelId: a.manifest.setup!.modelId, workers: 2 },
        { modelId: slicedModelId(sliced), slices: 3, workers: 2 },
      ],
    });
    const status = await readFleetStatus(redis.url, FLEET);
    expect(status.nodes.map((n) => [n.id, n.workers, n.conflicts.length])).toEqual([
      ['node-a', 1, 0],
      ['node-b', 1, 0],
    ]);
    expect(status.models).toMatchObject({
      [a.manifest.name]: a.manifest.setup!.modelId,
      [sliced.manifest.name]: slicedModelId(sliced),
      [`${sliced.manifest.name}.slice0`]: sliced.slices[0]!.manifest.setup!.modelId,
    });
  });

  it('serves requests on both nodes; every proof verifies and commits to its input', async () => {
    await hold('node-a', 'node-b');
    const pending = [0, 1, 2, 3, 4, 5].map((i) => prove(i));
    // each node takes a job (one worker each) and holds it: both are serving
    await Promise.all(nodes.map(holding));
    await release('node-a', 'node-b');
    const answers = await Promise.all(pending);
    for (const r of answers) {
      if (!r.ok) throw new Error(JSON.stringify(r));
      expect(await verifyProof(vkey, r.body.publicSignals, r.body.proof)).toEqual({ ok: true });
    }
    for (const n of nodes)
      expect(await metric(n.url, /zkinfer_node_proofs_total\{[^}]*\} (\d+)/)).toBeGreaterThan(0);
    const axonMetrics = await (await fetch(`${miner.url}/metrics`)).text();
    expect(axonMetrics).toMatch(/zkinfer_fleet_proofs_total\{node="node-a"\} [1-9]/);
    expect(axonMetrics).toMatch(/zkinfer_fleet_proofs_total\{node="node-b"\} [1-9]/);
    expect(axonMetrics).toMatch(/zkinfer_fleet_nodes 2/);
  });

  it('proves the slices of one request on both nodes at once; the answer verifies as a chain', async () => {
    const sliceProofs = () =>
      Promise.all(
        nodes.map((n) =>
          metric(n.url, `zkinfer_node_proofs_total\\{model="${sliced.manifest.name}\\.slice\\d"\\} (\\d+)`),
        ),
      );
    const x = digitsHoldout().inputs[7]!;
    const binding = { nonce: String(++nonce), validatorHotkey: validator.ss58, minerHotkey: miner.hotkey };
    await hold('node-a', 'node-b');
    const pending = call<ProveInferenceResponse>('ProveInference', {
      modelId: slicedModelId(sliced),
      input: Array.from(x),
      binding,
      deadlineMs: 60_000,
    });
    // two of the three slices are taken at once, one by each node
    await Promise.all(nodes.map(holding));
    await release('node-a', 'node-b');
    const r = await pending;
    if (!r.ok) throw new Error(JSON.stringify(r));
    const b = await computeBinding(binding);
    expect(await verifySliced(sliced, slicedBundleOf(r.body, sliced, b), { input: x, binding: b })).toEqual({
      ok: true,
    });
    const perNode = await sliceProofs();
    expect(perNode.reduce((s, n) => s + n, 0)).toBe(3);
    for (const n of perNode) expect(n).toBeGreaterThan(0);
  });

  it('drops a job whose deadline has passed instead of proving it', async () => {
    const names = fleetNames(FLEET);
    const queue = new Queue(names.queue, { prefix: names.prefix, connection: redisOptions(redis.url) });
    try {
      const job = await queue.add(
        a.manifest.setup!.modelId,
        {
          modelId: a.manifest.setup!.modelId,
          circuitInput: { in: ['0'], binding: '1' },
          deadlineAt: Date.now() - 1000,
        },
        { priority: 1 },
      );
      const reason = await until('the job to fail', async () => {
        const j = await queue.getJob(job.id!);
        return (await j?.isFailed()) ? j!.failedReason : undefined;
      });
      expect(reason).toMatch(/^EXPIRED: node node-[ab]: the deadline passed \d+ ms before/);
    } finally {
      await queue.close();
    }
  });

  it('refuses a node whose proving key for the same model differs (modelId mismatch)', async () => {
    const other = await setUpModel('mlp-digits'); // a second set-up: same circuit, another zkey
    expect(other.manifest.setup!.modelId).not.toBe(a.manifest.setup!.modelId);
    const err = await startNodeProcess(nodeConfig('node-c', other.dir)).catch(
      (e: Error & { details?: string }) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const details = String((err as { details?: string }).details);
    expect(details).toMatch(/MODEL_MISMATCH|refused by fleet "test-fleet"/);
    expect(details).toContain(
      `is ${other.manifest.setup!.modelId} here but ${a.manifest.setup!.modelId} in the fleet`,
    );
    expect((await readFleetStatus(redis.url, FLEET)).nodes.map((n) => n.id)).not.toContain('node-c');
  });

  it('loses no request when a node is SIGKILLed mid-proof: another node proves it', async () => {
    const [nodeA, nodeB] = nodes as [NodeProcess, NodeProcess];
    await hold('node-b');
    const pending = [prove(10), prove(11)];
    // B takes a job and holds it: kill B while it does
    await holding(nodeB);
    expect(await nodeB.kill()).toBeNull();
    await release('node-b');
    const answers = await Promise.all(pending);
    for (const r of answers) {
      if (!r.ok) throw new Error(JSON.stringify(r));
      expect(await verifyProof(vkey, r.body.publicSignals, r.body.proof)).toEqual({ ok: true });
    }
    expect(await metric(miner.url, /zkinfer_fleet_stalled_total (\d+)/)).toBeGreaterThanOrEqual(1);
    expect(await metric(miner.url, /zkinfer_fleet_retries_total (\d+)/)).toBeGreaterThanOrEqual(1);
    expect(await metric(nodeA.url, /zkinfer_node_proofs_total\{[^}]*\} (\d+)/)).toBeGreaterThan(0);
    // B's record expires: the fleet's capacity is A's alone
    await until('node-b gone from Capacity', async () => ((await fleetWorkers()) === 1 ? true : undefined));
  });

  it('refuses new work with 503 while Redis is gone, and recovers without a restart', async () => {
    await redis.stop();
    const refused = await until('a 503', async () => {
      const r = await prove(20);
      return !r.ok && r.status === 503 ? r : undefined;
    });
    expect(!refused.ok && refused.detail).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unreachable/);
    expect(await metric(miner.url, /zkinfer_fleet_redis_up (\d+)/)).toBe(0);
    const cli = await zkinferInProcess('fleet', 'status', '--redis', redis.url, '--fleet', FLEET);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/error\[IO\]: the fleet's Redis at .* is unreachable/);

    await redis.start(); // empty: the nodes re-register, the axon re-publishes its models
    const r = await until('a proof after the restart', async () => {
      const x = await prove(21);
      return x.ok ? x : undefined;
    });
    expect(await verifyProof(vkey, r.body.publicSignals, r.body.proof)).toEqual({ ok: true });
    const status = await zkinferInProcess(
      '--json',
      'fleet',
      'status',
      '--redis',
      redis.url,
      '--fleet',
      FLEET,
    );
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { nodes: { id: string }[]; models: Record<string, string> };
    expect(s.nodes.map((n) => n.id)).toEqual(['node-a']);
    expect(s.models[a.manifest.name]).toBe(a.manifest.setup!.modelId);
  });
});
