import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { GatewaySettler } from '../contracts/gatewaySettler.ts';
import { type LocalAvs, setUpLocalAvs } from '../contracts/localAvs.ts';
import { type LocalChain, startHardhatNode } from '../contracts/localChain.ts';
import { TASK_STATUS } from '../contracts/settlementMath.ts';
import { hotkeyFromUri } from '../protocol/keys.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { GatewayClient } from '../verifier/gateway/client.ts';
import type { Validator } from '../verifier/validator.ts';
import { holdoutInputs } from './helpers/fixtures.ts';
import { responseErrors } from './helpers/openapiCheck.ts';
import { setUpModel } from './helpers/provedModel.ts';
import { startTestGateway, TEST_VALIDATOR_URI, type TestGateway } from './helpers/testGateway.ts';

let a: Artifacts;
let chain: LocalChain;
let avs: LocalAvs;
let miner: MinerProcess;
let v: Validator;
let t: TestGateway | undefined;
let url: string;

beforeAll(async () => {
  a = await setUpModel('mlp-digits');
  const dir = await mkdtemp(join(tmpdir(), 'zkinfer-gw-settle-'));
  chain = await startHardhatNode();
  avs = await setUpLocalAvs(chain.url, [a], 1);
  const validator = await hotkeyFromUri(TEST_VALIDATOR_URI);
  miner = await startMinerProcess({
    hotkey: { uri: '//SettleMiner' },
    models: [a.dir],
    workers: 1,
    allowedHotkeys: [validator.ss58],
  });
  const settler = new GatewaySettler(avs.operators[0]!, join(dir, 'queue.db'), 10n ** 12n, 500);
  t = await startTestGateway({
    models: [a.dir],
    miners: [{ hotkey: miner.hotkey, url: miner.url }],
    settler,
    dir,
  });
  v = t.validator;
  url = t.url;
}, 300_000);

afterAll(async () => {
  await t?.stop();
  await miner?.stop();
  await chain?.stop();
});

/** A response body, read freely once it matched the OpenAPI schema. */
// biome-ignore lint/suspicious/noExplicitAny: schema-checked response bodies
type Loose = Record<string, any>;

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

describe('gateway settle: true on a local AVS', () => {
  it('creates the task, a miner proves with the task binding, the proof settles by the proven path', async () => {
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { models: { settlement: boolean }[] };
    expect(models.models[0]!.settlement).toBe(true);
    const x = Array.from(holdoutInputs('mlp-digits')[3]!);
    const r = await post({ model: a.manifest.name, input: x, settle: true });
    expect(r.status).toBe(200);
    const s = r.body['settlement'];
    expect(s).toMatchObject({ status: 'settled', error: null });
    expect(s.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const op = avs.operators[0]!;
    // the proof carries the chain's binding for this task and this operator
    expect(r.body['binding'].value).toBe((await op.bindingOf(s.taskId)).toString());
    expect(r.body['binding'].avs).toMatchObject({ taskId: s.taskId, prover: await op.address() });
    expect(TASK_STATUS[await op.status(s.taskId)]).toBe('Proven');
    const logs = await op.tasks.queryFilter(op.tasks.filters['TaskProven']!(s.taskId), 0);
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
