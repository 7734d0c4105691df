import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { computeBinding } from '../protocol/binding.ts';
import { callAxon, nextNonce } from '../protocol/dendrite.ts';
import { type Hotkey, hotkeyFromUri } from '../protocol/keys.ts';
import { buildSdkRequest, SDK_SYNAPSES } from '../protocol/sdkSynapse.ts';
import { answerSigningMessage, bodyHash, verifySignature } from '../protocol/signing.ts';
import type { CapacityResponse, ProveInferenceResponse } from '../protocol/synapses.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { verifyProof } from '../verifier/verifyProof.ts';
import { holdoutInputs } from './helpers/fixtures.ts';
import { setUpModel } from './helpers/provedModel.ts';

let a: Artifacts;
let miner: MinerProcess;
let validator: Hotkey;
let stranger: Hotkey;
let vkey: unknown;

beforeAll(async () => {
  a = await setUpModel('mlp-digits');
  vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8'));
  validator = await hotkeyFromUri('//Alice');
  stranger = await hotkeyFromUri('//Eve');
  miner = await startMinerProcess({
    hotkey: { uri: '//MinerOne' },
    models: [a.dir],
    workers: 2,
    maxQueue: 2,
    maxBodyBytes: 64_000,
    allowedHotkeys: [validator.ss58],
  });
}, 300_000);

afterAll(async () => {
  await miner?.stop();
});

const modelId = () => a.manifest.setup!.modelId;
function request(i: number, overrides: Record<string, unknown> = {}) {
  return {
    modelId: modelId(),
    input: Array.from(holdoutInputs('mlp-digits')[i]!),
    binding: { nonce: String(1000 + i), validatorHotkey: validator.ss58, minerHotkey: miner.hotkey },
    deadlineMs: 30_000,
    ...overrides,
  };
}
const call = <T>(synapse: string, body: unknown, extra: Partial<Parameters<typeof callAxon>[3]> = {}) =>
  callAxon<T>(miner.url, synapse, body, {
    hotkey: validator,
    axonHotkey: miner.hotkey,
    timeoutMs: 30_000,
    ...extra,
  });

describe('miner axon (a real process on 127.0.0.1)', () => {
  it('answers Capacity', async () => {
    const r = await call<CapacityResponse>('Capacity', {});
    expect(r.ok && r.body).toMatchObject({
      hotkey: miner.hotkey,
      workers: 2,
      maxQueue: 2,
      models: [{ modelId: modelId(), constraints: 1475 }],
    });
  });

  it('proves a signed challenge: the proof verifies and commits to the input and the binding', async () => {
    const req = request(5);
    const r = await call<ProveInferenceResponse>('ProveInference', req);
    if (!r.ok) throw new Error(JSON.stringify(r));
    const n = r.body.publicSignals.length;
    const expect_ = {
      binding: { index: n - 1, value: await computeBinding(req.binding) },
      inputHash: { index: n - 2, value: await inputHashOf(req.input, a.manifest.input) },
    };
    expect(await verifyProof(vkey, r.body.publicSignals, r.body.proof, expect_)).toEqual({ ok: true });
    expect(r.body.timings.proveMs).toBeGreaterThan(0);
  });

  it('serves a request built byte for byte as the Python SDK builds it: 200, a proof that verifies, a signed answer', async () => {
    const req = request(7);
    const sdk = (values: Record<string, unknown>) =>
      buildSdkRequest({
        spec: SDK_SYNAPSES['ProveInference']!,
        values,
        timeoutSeconds: 30,
        dendrite: { ip: '127.0.0.1', version: 920, hotkey: validator.ss58 },
        axon: { ip: '127.0.0.1', port: Number(new URL(miner.url).port), hotkey: miner.hotkey },
        nonce: nextNonce(),
        uuid: randomUUID(),
        sign: (m) => validator.sign(m),
      });
    const { body, headers } = sdk(req);
    const res = await fetch(`${miner.url}/ProveInference`, { method: 'POST', headers, body });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const answer = JSON.parse(text) as ProveInferenceResponse & Record<string, unknown>;
    // the synapse comes back whole, answer fields filled in, as the SDK's dendrite rebuilds it
    expect(answer).toMatchObject({ name: 'ProveInference', modelId: req.modelId, input: req.input });
    const n = answer.publicSignals.length;
    const expect_ = {
      binding: { index: n - 1, value: await computeBinding(req.binding) },
      inputHash: { index: n - 2, value: await inputHashOf(req.input, a.manifest.input) },
    };
    expect(await verifyProof(vkey, answer.publicSignals, answer.proof, expect_)).toEqual({ ok: true });
    const signed = answerSigningMessage({
      nonce: headers['bt_header_dendrite_nonce']!,
      dendriteHotkey: validator.ss58,
      axonHotkey: miner.hotkey,
      uuid: headers['bt_header_dendrite_uuid']!,
      bodyHash: bodyHash(text),
    });
    expect(await verifySignature(signed, res.headers.get('bt_header_axon_signature')!, miner.hotkey)).toBe(
      true,
    );
    // the signature covers the input: an input changed after signing is refused
    const forged = sdk(req);
    const edited = forged.body.replace(/"input": \[[^,]+,/, '"input": [0.75,');
    expect(edited).not.toBe(forged.body);
    const refused = await fetch(`${miner.url}/ProveInference`, {
      method: 'POST',
      headers: { ...forged.headers, 'content-length': String(Buffer.byteLength(edited)) },
      body: edited,
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'computed_body_hash does not match the body' });
  });

  it('401: a bad signature, an empty one, one made for another axon, and a replayed nonce', async () => {
    const other = await hotkeyFromUri('//SomeoneElse');
    expect(
      (await call('Capacity', {}, { tamper: { signature: validator.sign('something else') } })).status,
    ).toBe(401);
    expect((await call('Capacity', {}, { tamper: { signature: '' } })).status).toBe(401); // empty is never accepted
    expect((await call('Capacity', {}, { tamper: { signature: '0x' } })).status).toBe(401);
    expect((await call('Capacity', {}, { axonHotkey: other.ss58 })).status).toBe(401);
    const nonce = nextNonce();
    const uuid = 'replayed-request';
    expect((await call('Capacity', {}, { tamper: { nonce, uuid } })).status).toBe(200);
    const replay = await call('Capacity', {}, { tamper: { nonce, uuid } });
    expect(replay).toMatchObject({ ok: false, status: 401, detail: expect.stringMatching(/replay/) });
  });

  it('404 unknown synapse, 413 oversize body, 403 unknown hotkey, 400 malformed input with a reason', async () => {
    expect((await call('Teleport', {})).status).toBe(404);
    const huge = request(0, { input: new Array(20_000).fill(0.5) });
    expect((await call('ProveInference', huge)).status).toBe(413);
    expect((await call('Capacity', {}, { hotkey: stranger })).status).toBe(403);
    const short = await call('ProveInference', request(0, { input: [1, 2, 3] }));
    expect(short).toMatchObject({ status: 400, detail: 'the model takes 64 input values, got 3' });
    const nan = await call('ProveInference', { ...request(0), input: ['x'] });
    expect(nan).toMatchObject({ status: 400, detail: 'input[0] is not a finite number' });
    const stolen = await call(
      'ProveInference',
      request(0, { binding: { nonce: '1', validatorHotkey: validator.ss58, minerHotkey: stranger.ss58 } }),
    );
    expect(stolen).toMatchObject({ status: 400, detail: 'binding.minerHotkey is not this miner' });
  });

  it('503 when the queue is full: the excess is refused, not queued, and every accepted job is proved', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call<ProveInferenceResponse>('ProveInference', request(i))),
    );
    const busy = results.filter((r) => !r.ok && r.status === 503);
    const done = results.filter((r) => r.ok);
    expect(busy.length).toBeGreaterThan(0);
    expect(done.length).toBeGreaterThanOrEqual(4);
    expect(busy.length + done.length).toBe(10);
    // refused for the full queue itself (not after waiting in it): the reason says so
    for (const r of busy) expect(r.ok ? '' : r.detail).toMatch(/queue is full|busy/);
  });

  it('under an offered load of 2x capacity: the excess is refused (503) without being proved, the rest is proved', async () => {
    // Behaviour only: how fast accepted jobs finish is a benchmark's business
    // (scripts/bench/prove-throughput.ts), never a test's (a loaded machine makes any bound flaky).
    const proofsSoFar = async () =>
      Number(
        /zkinfer_miner_proofs_total (\d+)/.exec(await (await fetch(`${miner.url}/metrics`)).text())?.[1] ?? 0,
      );
    const one = await call<ProveInferenceResponse>('ProveInference', request(11));
    if (!one.ok) throw new Error(JSON.stringify(one));
    const proofMs = one.body.timings.witnessMs + one.body.timings.proveMs;
    const intervalMs = proofMs / 2 / 2; // 2 workers, offered at twice their rate
    const deadlineMs = Math.max(4 * proofMs, 1_500);
    const before = await proofsSoFar();
    const calls: Promise<Awaited<ReturnType<typeof call<ProveInferenceResponse>>>>[] = [];
    const until = performance.now() + 6_000;
    for (let i = 0; performance.now() < until; i++) {
      calls.push(call<ProveInferenceResponse>('ProveInference', request(i % 300, { deadlineMs })));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    const results = await Promise.all(calls);
    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok && r.status === 503);
    // a job the machine could not finish in time is answered 408: honest too, just late
    expect(results.filter((r) => !r.ok && r.status !== 503 && r.status !== 408)).toEqual([]);
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.ok ? '' : r.detail).toMatch(/queue is full|busy/);
    // refusals cost no proof: the miner proved exactly what it answered
    expect((await proofsSoFar()) - before).toBe(accepted.length);
  }, 60_000);

  it('exposes Prometheus metrics', async () => {
    const text = await (await fetch(`${miner.url}/metrics`)).text();
    expect(text).toMatch(/zkinfer_miner_proofs_total [1-9]/);
    expect(text).toMatch(/zkinfer_miner_failures_total\{cause="queue_full"\} [1-9]/);
    expect(text).toMatch(/zkinfer_miner_proof_ms_count [1-9]/);
  });

  it('shuts down gracefully on SIGTERM, finishing the proof in flight', async () => {
    const inFlight = call<ProveInferenceResponse>('ProveInference', request(7));
    await new Promise((r) => setTimeout(r, 150));
    const code = miner.stop();
    const r = await inFlight;
    expect(r.ok).toBe(true);
    expect(await code).toBe(0);
  });
});

describe('miner axon with a known metagraph', () => {
  it('serves permitted validators, refuses the rest (403); under a full queue, more stake displaces less', async () => {
    const { LocalSubtensor } = await import('../subnet/localSubtensor.ts');
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const state = join(await mkdtemp(join(tmpdir(), 'zkinfer-mg-')), 'chain.json');
    const chain = LocalSubtensor.open(state, { tempo: 2, maxAllowedValidators: 2 });
    const rich = await hotkeyFromUri('//Permitted');
    const modest = await hotkeyFromUri('//Modest');
    const noPermit = await hotkeyFromUri('//NoPermit');
    chain.register(rich.ss58, 1000);
    chain.register(modest.ss58, 100);
    chain.register(noPermit.ss58, 1);
    chain.advance(2); // the epoch grants the two permits to the largest stakes
    const m = await startMinerProcess({
      hotkey: { uri: '//MetagraphMiner' },
      models: [a.dir],
      workers: 1,
      maxQueue: 2,
      subtensorState: state,
      minValidatorStake: 10,
    });
    try {
      const as = (hotkey: Hotkey) =>
        callAxon<CapacityResponse>(
          m.url,
          'Capacity',
          {},
          { hotkey, axonHotkey: m.hotkey, timeoutMs: 10_000 },
        );
      expect((await as(rich)).status).toBe(200);
      expect(await as(noPermit)).toMatchObject({
        status: 403,
        detail: expect.stringMatching(/no validator permit/),
      });
      expect(await as(stranger)).toMatchObject({
        status: 403,
        detail: expect.stringMatching(/not registered/),
      });

      const prove = (hotkey: Hotkey, i: number) =>
        callAxon<ProveInferenceResponse>(
          m.url,
          'ProveInference',
          {
            ...request(i),
            binding: { nonce: String(5000 + i), validatorHotkey: hotkey.ss58, minerHotkey: m.hotkey },
          },
          { hotkey, axonHotkey: m.hotkey, timeoutMs: 60_000 },
        );
      // the modest validator fills the worker and the queue (1 running, 2 waiting, the rest refused)
      const modestCalls = [0, 1, 2, 3, 4].map((i) => prove(modest, i));
      for (let i = 0; i < 200; i++) {
        const c = await as(rich);
        if (c.ok && c.body.queueDepth === 2) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const richAnswer = await prove(rich, 9);
      const modestAnswers = await Promise.all(modestCalls);
      expect(richAnswer.ok).toBe(true);
      const detail = (r: (typeof modestAnswers)[number]) => (r.ok ? 'ok' : `${r.status} ${r.detail}`);
      const details = modestAnswers.map(detail);
      expect(details.filter((d) => d === 'ok')).toHaveLength(2); // the running one and one waiting
      expect(
        details.filter((d) => /^503 .*displaced by one from a caller with more stake/.test(d)),
      ).toHaveLength(1);
      expect(details.filter((d) => /^503 .*queue is full \(2 waiting\)/.test(d))).toHaveLength(2);
    } finally {
      await m.stop();
    }
  }, 120_000);
});

describe('miner axon on a real chain (recorded finney answers)', () => {
  it("admits callers by the chain's metagraph, and keeps the last one read while the chain is gone", async () => {
    const { startReplayServer } = await import('./helpers/replayRpcServer.ts');
    const server = await startReplayServer();
    const m = await startMinerProcess({
      hotkey: { uri: '//ChainMiner' },
      models: [a.dir],
      workers: 1,
      network: server.url,
      netuid: 23,
    });
    try {
      const capacity = () =>
        callAxon<CapacityResponse>(
          m.url,
          'Capacity',
          {},
          {
            hotkey: validator,
            axonHotkey: m.hotkey,
            timeoutMs: 10_000,
          },
        );
      // read from the chain: //Alice is none of netuid 23's 19 neurons
      expect(await capacity()).toMatchObject({
        status: 403,
        detail: expect.stringMatching(/hotkey 5Grw\w+ is not registered on the subnet/),
      });
      await server.close();
      await new Promise((r) => setTimeout(r, 1200)); // past the once-a-second re-read
      expect(await capacity()).toMatchObject({
        status: 403,
        detail: expect.stringMatching(/not registered/),
      });
      // the background re-read fails once the client gives up on reconnecting; callers never waited for it
      for (let i = 0; i < 600 && !m.logs.join('\n').includes('metagraph unreadable'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(m.logs.join('\n')).toContain('metagraph unreadable; serving the last one read');
      expect(await capacity()).toMatchObject({
        status: 403,
        detail: expect.stringMatching(/not registered/),
      });
    } finally {
      await m.stop();
      await server.close().catch(() => {});
    }
  });

  it('announces its axon on the chain at start (serve_axon, signed by its hotkey)', async () => {
    const { finneyApis, startChainStandIn } = await import('./helpers/chainStandIn.ts');
    const standIn = await startChainStandIn();
    const m = await startMinerProcess({
      hotkey: { uri: '//AnnouncingMiner' },
      models: [a.dir],
      workers: 1,
      network: standIn.server.url,
      netuid: 23,
      announce: 'http://203.0.113.7:8091',
    });
    try {
      expect(m.logs.join('\n')).toContain('"msg":"axon announced"');
      expect(standIn.submitted).toHaveLength(1);
      const ext = finneyApis().registry.createType('Extrinsic', standIn.submitted[0]!);
      expect(ext.signer.toString()).toBe(m.hotkey);
      expect(`${ext.method.section}.${ext.method.method}`).toBe('subtensorModule.serveAxon');
      expect(ext.method.toJSON()).toMatchObject({
        args: { netuid: 23, ip: 0xcb007107, port: 8091, ip_type: 4 },
      });
    } finally {
      await m.stop();
      await standIn.server.close();
    }
  });
});
