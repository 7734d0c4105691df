import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { hotkeyFromUri } from '../protocol/keys.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { proveMany } from '../prover/proveMany.ts';
import { HASHED_MLP_DIR, holdoutInputs } from '../test/helpers/fixtures.ts';
import { responseErrors } from '../test/helpers/openapiCheck.ts';
import { setUpModel } from '../test/helpers/provedModel.ts';
import { startTestGateway, TEST_VALIDATOR_URI, type TestGateway } from '../test/helpers/testGateway.ts';
import { GatewayClient } from '../verifier/gateway/client.ts';
import type { Validator } from '../verifier/validator.ts';
import type { AvsTask } from './avsClient.ts';
import { EventIndexer } from './eventIndexer.ts';
import { GatewaySettler } from './gatewaySettler.ts';
import { type LocalAvs, setUpLocalAvs } from './localAvs.ts';
import { type LocalChain, startHardhatNode } from './localChain.ts';
import { TASK_STATUS } from './settlementMath.ts';
import { type ProvenSettlement, SettlementQueue } from './settlementQueue.ts';

let chain: LocalChain;
let avs: LocalAvs;
let a: Artifacts;
let dir: string;

/** Creates n tasks and proves each for operator 0 (its binding per task). */
async function provenResults(n: number, offset: number): Promise<ProvenSettlement[]> {
  const inputs = holdoutInputs('mlp-digits').slice(offset, offset + n);
  const tasks: { taskId: number; task: AvsTask }[] = [];
  for (const x of inputs) {
    const block = await avs.provider.getBlockNumber();
    tasks.push(
      await avs.owner.createTask(
        a.manifest.setup!.modelId,
        await inputHashOf(x, a.manifest.input),
        BigInt(block + 500),
        1000n,
      ),
    );
  }
  const op = avs.operators[0]!;
  const bindings = await Promise.all(tasks.map((t) => op.bindingOf(t.taskId)));
  const proofs = await proveMany(
    a,
    inputs.map((x, i) => ({ input: x, binding: bindings[i]! })),
    2,
  );
  return tasks.map((t, i) => ({
    taskId: t.taskId,
    task: t.task,
    proof: proofs[i]!.proof,
    publicSignals: proofs[i]!.publicSignals,
  }));
}

function provenCounts(indexer: EventIndexer): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of indexer.events('TaskProven')) {
    const id = Number(e.args['taskId']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

beforeAll(async () => {
  a = await setUpModel('mlp-digits', HASHED_MLP_DIR);
  chain = await startHardhatNode();
  avs = await setUpLocalAvs(chain.url, [a]);
  dir = await mkdtemp(join(tmpdir(), 'zkinfer-settle-'));
}, 300_000);

afterAll(async () => {
  await chain?.stop();
});

describe('settlement queue and event indexer', () => {
  it('the node paused (SIGSTOP) while 20 results are queued: after SIGCONT all 20 settle exactly once', async () => {
    const results = await provenResults(20, 0);
    const queue = new SettlementQueue(join(dir, 'queue.db'), avs.operators[0]!);
    for (const r of results) queue.enqueue(r);
    queue.enqueue(results[0]!); // queuing twice changes nothing
    const draining = queue.drain(180_000, 200);
    await new Promise((r) => setTimeout(r, 400)); // let a few settle
    chain.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 5_000));
    chain.child.kill('SIGCONT');
    await draining;
    const rows = queue.rows();
    queue.close();
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.status === 'settled' && r.txHash)).toBe(true);
    expect(rows.some((r) => r.attempts > 1)).toBe(true); // the outage was felt, and retried
    const indexer = new EventIndexer(
      join(dir, 'events.db'),
      avs.provider,
      { tasks: avs.owner.tasks, allocation: avs.owner.allocation, service: avs.owner.service },
      7,
    );
    await indexer.sync();
    const counts = provenCounts(indexer);
    for (const r of results) expect(counts.get(r.taskId), `task ${r.taskId}`).toBe(1);
    indexer.close();
  }, 240_000);

  it('a queue restarted mid-drain resumes from its database; the indexer resumes from its last block', async () => {
    const results = await provenResults(8, 40);
    const path = join(dir, 'queue2.db');
    const first = new SettlementQueue(path, avs.operators[0]!);
    for (const r of results) first.enqueue(r);
    await first.drainOnce(3); // settles three, then the process "dies"
    first.close();
    const second = new SettlementQueue(path, avs.operators[0]!);
    expect(second.pendingCount()).toBe(5);
    await second.drain();
    expect(second.rows().every((r) => r.status === 'settled')).toBe(true);
    second.close();
    const eventsDb = join(dir, 'events2.db');
    const one = new EventIndexer(eventsDb, avs.provider, { tasks: avs.owner.tasks }, 5);
    const head = await avs.provider.getBlockNumber();
    await one.sync(Math.floor(head / 2));
    const half = one.lastBlock();
    one.close();
    const two = new EventIndexer(eventsDb, avs.provider, { tasks: avs.owner.tasks }, 5);
    expect(two.lastBlock()).toBe(half);
    await two.sync();
    await two.sync(); // nothing twice
    const counts = provenCounts(two);
    for (const r of results) expect(counts.get(r.taskId)).toBe(1);
    two.close();
  }, 240_000);
});

/** A response body, read freely once it matched the OpenAPI schema. */
// biome-ignore lint/suspicious/noExplicitAny: schema-checked response bodies
type Loose = Record<string, any>;

describe('gateway settle: true on this AVS (hashed outputs, so the gateway checks the outputHash)', () => {
  let miner: MinerProcess;
  let t: TestGateway;
  let v: Validator;
  let url: string;
  /** Operator 2: the queue tests above settle as operator 0. */
  const op = () => avs.operators[2]!;

  beforeAll(async () => {
    miner = await startMinerProcess({
      hotkey: { uri: '//SettleMiner' },
      models: [a.dir],
      workers: 1,
      allowedHotkeys: [(await hotkeyFromUri(TEST_VALIDATOR_URI)).ss58],
    });
    const settler = new GatewaySettler(op(), join(dir, 'gateway-queue.db'), 10n ** 12n, 500);
    t = await startTestGateway({
      models: [a.dir],
      miners: [{ hotkey: miner.hotkey, url: miner.url }],
      settler,
    });
    v = t.validator;
    url = t.url;
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await miner?.stop();
  });

  async function post(body: unknown): Promise<{ status: number; body: Loose }> {
    const res = await fetch(`${url}/v1/inference`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Loose;
    expect(responseErrors('/v1/inference', 'POST', res.status, json)).toEqual([]);
    return { status: res.status, body: json };
  }

  it('creates the task, a miner proves with the task binding, the proof settles by the proven path', async () => {
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { models: { settlement: boolean }[] };
    expect(models.models[0]!.settlement).toBe(true);
    const x = Array.from(holdoutInputs('mlp-digits')[3]!);
    const r = await post({ model: a.manifest.name, input: x, settle: true });
    expect(r.status).toBe(200);
    const s = r.body['settlement'];
    expect(s).toMatchObject({ status: 'settled', error: null });
    expect(s.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    // the proof carries the chain's binding for this task and this operator
    expect(r.body['binding'].value).toBe((await op().bindingOf(s.taskId)).toString());
    expect(r.body['binding'].avs).toMatchObject({ taskId: s.taskId, prover: await op().address() });
    expect(TASK_STATUS[await op().status(s.taskId)]).toBe('Proven');
    const logs = await op().tasks.queryFilter(op().tasks.filters['TaskProven']!(s.taskId), 0);
    expect(logs.map((l) => l.transactionHash)).toEqual([s.txHash]);
    // the stored result and the typed client agree; the client verifies the AVS-bound proof
    const stored = (await (await fetch(`${url}/v1/inference/${r.body['id']}`)).json()) as Record<
      string,
      unknown
    >;
    expect(stored['settlement']).toEqual(s);
    const client = new GatewayClient(url);
    expect(
      await client.verifyLocally(
        r.body as Parameters<GatewayClient['verifyLocally']>[0],
        a.manifest.setup!.modelId,
      ),
    ).toEqual({ ok: true });
    // the organic answer was scored like any other
    expect(v.store.scores().get(miner.hotkey)).toMatchObject({ verified: 1, invalid: 0 });
  }, 120_000);

  it('a chain that cannot be reached: 502 SETTLEMENT_FAILED, and nothing is asked of the miners', async () => {
    chain.child.kill('SIGSTOP');
    try {
      const before = v.store.requests().length;
      const r = await post({
        model: a.manifest.name,
        input: Array.from(holdoutInputs('mlp-digits')[4]!),
        settle: true,
      });
      expect(r.status).toBe(502);
      expect(r.body['error'].code).toBe('SETTLEMENT_FAILED');
      expect(v.store.requests().length).toBe(before);
    } finally {
      chain.child.kill('SIGCONT');
    }
  }, 60_000);
});
