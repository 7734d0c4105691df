import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQuantGraph } from '../circuits/artifacts.ts';
import { compileModel } from '../circuits/compile.ts';
import { infer } from '../circuits/core/inference.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { setupArtifacts } from '../circuits/setup/setup.ts';
import {
  openSliced,
  type SlicedModel,
  slicedModelId,
  sliceInputs,
  sliceVkeys,
} from '../circuits/slicedModel.ts';
import { GatewaySettler } from '../contracts/gatewaySettler.ts';
import { type LocalAvs, setUpLocalAvs } from '../contracts/localAvs.ts';
import { type LocalChain, startHardhatNode } from '../contracts/localChain.ts';
import { resultHashOf, TASK_STATUS } from '../contracts/settlementMath.ts';
import type { ProofBundle } from '../protocol/bundle.ts';
import { hotkeyFromUri } from '../protocol/keys.ts';
import type { SlicedBundle } from '../protocol/slicedBundle.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { proveSliced } from '../prover/proveSliced.ts';
import { auditRun } from '../verifier/auditRun.ts';
import { GatewayClient } from '../verifier/gateway/client.ts';
import { Validator } from '../verifier/validator.ts';
import { parseValidatorConfig } from '../verifier/validatorConfig.ts';
import { verifySliced, verifySlicedBatch } from '../verifier/verifySliced.ts';
import { zkinfer } from './helpers/cli.ts';
import { DEV_PTAU, digitsHoldout, MODELS_DIR } from './helpers/fixtures.ts';
import { revertName } from './helpers/revert.ts';
import { startTestGateway } from './helpers/testGateway.ts';

// A model cut into slices (make_sliced_fixture.py: a 64-32-32-32-10 ReLU MLP, 4.6k constraints,
// cut at 1,800 into three circuits), proved as one request, and the chain's soundness: every way
// of assembling slice proofs that are each valid alone into a false answer is refused, by name.

let dir: string;
let m: SlicedModel;
let A: SlicedBundle; // input 5, binding 1
let B: SlicedBundle; // input 6, binding 1
let C: SlicedBundle; // input 5, binding 2
const holdout = digitsHoldout();
const x5 = holdout.inputs[5]!;
const x6 = holdout.inputs[6]!;

beforeAll(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'zkinfer-sliced-')), 'deep-mlp');
  const r = await compileModel(join(MODELS_DIR, 'deep-mlp-digits.onnx'), {
    outDir: dir,
    maxConstraints: 1800,
  });
  expect(r.sliced?.slices).toHaveLength(3);
  m = await openSliced(dir);
  for (const a of m.slices) await setupArtifacts(a.dir, DEV_PTAU);
  m = await openSliced(dir);
  A = await proveSliced(m, x5, 1n);
  B = await proveSliced(m, x6, 1n);
  C = await proveSliced(m, x5, 2n);
}, 300_000);

let miners: MinerProcess[] = [];
afterAll(async () => {
  await Promise.all(miners.map((p) => p.stop()));
});

describe('a sliced model', () => {
  it('is cut into circuits under the budget, chained by boundary hashes, computing exactly the whole model', async () => {
    for (const s of m.manifest.slices) expect(s.constraints).toBeLessThanOrEqual(1800);
    m.slices.forEach((a, k) => {
      expect(a.manifest.circuit.constraints).toBe(a.manifest.circuit.expectedConstraints);
      expect(a.manifest.publicSignals.names).toEqual(
        k < m.slices.length - 1
          ? ['outputHash', 'inputHash', 'binding']
          : expect.arrayContaining(['inputHash', 'binding']),
      );
    });
    // on every hold-out input, the slices run one after another give the whole model's outputs
    const graphs = await Promise.all(m.slices.map((a) => loadQuantGraph(a)));
    for (const x of holdout.inputs) {
      const whole = infer(m.graph, x);
      const inputs = sliceInputs(m, x);
      const last = infer(graphs[graphs.length - 1]!, inputs[inputs.length - 1]!);
      expect(last.quantizedOutputs).toEqual(whole.quantizedOutputs);
    }
  });

  it('proves as one request that verifies, for this input and binding only', async () => {
    expect(await verifySliced(m, A, { input: x5, binding: 1n })).toEqual({ ok: true });
    expect(A.predictedClass).toBe(infer(m.graph, x5).predictedClass);
    expect(await verifySliced(m, A, { input: x6 })).toMatchObject({ ok: false, reason: 'inputHashMismatch' });
    expect(await verifySliced(m, A, { binding: 2n })).toMatchObject({ ok: false, reason: 'bindingMismatch' });
  });

  it('batched (one multi-pairing per slice for many answers) gives each answer the outcome verifySliced gives', async () => {
    const tampered = structuredClone(A);
    const p = tampered.slices[1]!.proof as { pi_a: string[] };
    p.pi_a[0] = (BigInt(p.pi_a[0]!) + 1n).toString(); // off the curve
    const otherPairing = structuredClone(A);
    (otherPairing.slices[2]!.proof as { pi_c: string[] }).pi_c = structuredClone(C.slices[2]!.proof.pi_c);
    const answers = [
      { raw: A, opts: { input: x5, binding: 1n } },
      { raw: tampered, opts: { input: x5, binding: 1n } },
      { raw: { ...A, slices: [A.slices[1]!, A.slices[0]!, A.slices[2]!] }, opts: { input: x5 } },
      { raw: otherPairing, opts: { input: x5, binding: 1n } },
      { raw: A, opts: { input: x6 } },
      { raw: A, opts: { input: x5, binding: 1n } },
    ];
    const batched = await verifySlicedBatch(m, answers);
    const single = await Promise.all(answers.map((x) => verifySliced(m, x.raw, x.opts)));
    expect(batched.map((r) => r.ok)).toEqual(single.map((r) => r.ok));
    // the same reasons, but a point off the curve: the batch names it malformed, snarkjs's pairing fails
    expect(single[1]).toMatchObject({
      ok: false,
      reason: 'pairing',
      detail: expect.stringMatching(/^slice 1: /),
    });
    expect(batched[1]).toMatchObject({
      ok: false,
      reason: 'malformed',
      detail: 'slice 1: a proof point is not on the curve',
    });
    expect(batched.map((r) => (r.ok ? 'ok' : r.reason))).toEqual([
      'ok',
      'malformed',
      'modelMismatch',
      'pairing',
      'inputHashMismatch',
      'ok',
    ]);
    expect(batched[3]).toMatchObject({ detail: expect.stringMatching(/^slice 2: /) });
  });

  it('refuses reordered slices, a slice of another request, a broken chain and a right last slice on a wrong middle', async () => {
    const forged: [string, SlicedBundle, string, RegExp][] = [
      [
        'swapped',
        { ...A, slices: [A.slices[1]!, A.slices[0]!, A.slices[2]!] },
        'modelMismatch',
        /out of order/,
      ],
      [
        'other request',
        { ...A, slices: [A.slices[0]!, A.slices[1]!, C.slices[2]!] },
        'bindingMismatch',
        /another request/,
      ],
      [
        'broken link',
        { ...A, slices: [A.slices[0]!, B.slices[1]!, A.slices[2]!] },
        'chainBroken',
        /slice 0 hashes out/,
      ],
      [
        'wrong middle',
        { ...B, slices: [A.slices[0]!, B.slices[1]!, B.slices[2]!] },
        'chainBroken',
        /slice 0 hashes out/,
      ],
      [
        'relabelled middle',
        {
          ...B,
          slices: [
            A.slices[0]!,
            // the middle slice of another input, its inputHash edited to fit the chain: its proof no longer holds
            {
              ...B.slices[1]!,
              publicSignals: [B.slices[1]!.publicSignals[0]!, A.slices[0]!.publicSignals[0]!, '1'],
            },
            B.slices[2]!,
          ],
        },
        'pairing',
        /slice 1/,
      ],
    ];
    const files = await mkdtemp(join(tmpdir(), 'zkinfer-sliced-forged-'));
    for (const [what, bundle, reason, detail] of forged) {
      const r = await verifySliced(m, bundle);
      expect(r, what).toMatchObject({ ok: false, reason });
      expect((r as { detail: string }).detail, what).toMatch(detail);
    }
    // the CLI names the same reasons
    for (const [what, bundle, reason] of forged.slice(0, 3)) {
      const path = join(files, `${what.replace(/ /g, '-')}.json`);
      await writeFile(path, JSON.stringify(bundle));
      const v = await zkinfer('verify', path, '--artifacts', dir);
      expect(v.code, what).toBe(2);
      expect(v.stdout, what).toMatch(new RegExp(`^invalid \\(${reason}\\)`));
    }
  });

  it('compiles, sets up, proves and verifies through the CLI', async () => {
    const out = await mkdtemp(join(tmpdir(), 'zkinfer-sliced-cli-'));
    await writeFile(join(out, 'x.json'), JSON.stringify({ input: Array.from(x6) }));
    const p = await zkinfer('prove', dir, '--input', join(out, 'x.json'), '--binding', '9', '--out', out);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/3 slice proofs written/);
    const bundle = JSON.parse(await readFile(join(out, 'bundle.json'), 'utf8')) as SlicedBundle;
    expect(bundle.slices).toHaveLength(3);
    // zkinfer run on the sliced directory computes what the proofs claim
    const run = await zkinfer('run', dir, '--input', join(out, 'x.json'), '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ predictedClass: bundle.predictedClass });
    const v = await zkinfer(
      'verify',
      join(out, 'bundle.json'),
      '--artifacts',
      dir,
      '--input',
      join(out, 'x.json'),
      '--binding',
      '9',
    );
    expect(v.stdout).toBe('valid\n');
    expect(v.code).toBe(0);
    const bare = await zkinfer('verify', join(out, 'bundle.json'));
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/sliced model's proofs: give the sliced model's directory with --artifacts/);
  });

  it('refuses a budget no cut can meet, naming the layer', async () => {
    const r = await zkinfer(
      'compile',
      join(MODELS_DIR, 'deep-mlp-digits.onnx'),
      '--out',
      join(await mkdtemp(join(tmpdir(), 'zkinfer-sliced-tight-')), 'm'),
      '--max-constraints',
      '1000',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /no cut keeps every slice under 1000 constraints: a slice starting at layer \d+ outgrows it at layer \d+ \(rescale/,
    );
  });

  it('is served by a miner, its slices proved in parallel on the pool, and verified as a chain by the validator', async () => {
    const validator = await hotkeyFromUri('//SlicedValidator');
    miners = await Promise.all(
      (
        [
          ['//SlicedHonest', 'honest'],
          ['//SlicedWrongInput', 'wrongInput'],
        ] as const
      ).map(([uri, demoBehavior]) =>
        startMinerProcess({
          hotkey: { uri },
          models: [dir],
          workers: 2,
          maxQueue: 8,
          demoBehavior,
          allowedHotkeys: [validator.ss58],
        }),
      ),
    );
    const work = await mkdtemp(join(tmpdir(), 'zkinfer-sliced-validator-'));
    const v = await Validator.open(
      parseValidatorConfig({
        hotkey: { uri: '//SlicedValidator' },
        db: join(work, 'validator.db'),
        models: [dir],
        miners: miners.map((p) => ({ hotkey: p.hotkey, url: p.url })),
        timeoutMs: 30_000,
        proofDir: join(work, 'proofs'),
      }),
    );
    try {
      const r = await v.runRound();
      const [honest, cheat] = miners.map((p) => r.outcomes.find((o) => o.hotkey === p.hotkey)!.outcome);
      expect(honest).toMatchObject({ kind: 'verified' });
      expect(cheat).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^inputHashMismatch/) });
      const log = v.store.requests();
      expect(log.map((q) => q.modelId)).toEqual([slicedModelId(m), slicedModelId(m)]);
    } finally {
      v.close();
    }
    // the honest answer is kept whole, and an auditor re-checks it as a chain
    const run = {
      format: 'zkinfer/run@1',
      artifacts: relative(work, dir),
      validatorDb: 'validator.db',
      proofDir: 'proofs',
      settlements: 'settlements.json',
      chainId: '31337',
      taskManager: '0x0000000000000000000000000000000000000000',
    };
    await writeFile(join(work, 'demo.json'), JSON.stringify(run));
    await writeFile(join(work, 'settlements.json'), '[]');
    const kept = (await readdir(join(work, 'proofs'))).filter((f) => f.endsWith('.json'));
    expect(kept).toEqual([expect.stringContaining(miners[0]!.hotkey)]);
    expect(await auditRun(work)).toEqual([
      { item: `proof proofs/${kept[0]}`, ok: true, detail: 'verified (3 slices, chained)' },
      { item: 'validator weights', ok: true, detail: '1 rounds reproduced exactly' },
    ]);
    const file = join(work, 'proofs', kept[0]!);
    const record = JSON.parse(await readFile(file, 'utf8')) as { slices: unknown[] };
    await writeFile(
      file,
      JSON.stringify({ ...record, slices: [record.slices[1], record.slices[0], record.slices[2]] }),
    );
    const [tampered] = await auditRun(work);
    expect(tampered).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^modelMismatch: .*out of order/),
    });
  });

  it('is served through the gateway: the honest chain comes back and the client verifies it locally, slice keys and all', async () => {
    const t = await startTestGateway({
      models: [dir],
      miners: miners.map((p) => ({ hotkey: p.hotkey, url: p.url })),
      validatorUri: '//SlicedValidator',
    });
    try {
      const client = new GatewayClient(t.url);
      const info = await client.model(m.manifest.name);
      expect(info).toMatchObject({ modelId: slicedModelId(m), slices: 3, settlement: false });
      // both miners are asked; only the honest chain can come back
      const r = await client.infer(info.modelId, Array.from(x6), { redundancy: 2 });
      expect(r.miner).toBe(miners[0]!.hotkey);
      expect(r.class).toBe(infer(m.graph, x6).predictedClass);
      expect(await client.verifyLocally(r, info.modelId)).toEqual({ ok: true });
      const slices = r.bundle.slices!;
      const swapped = { ...r, bundle: { ...r.bundle, slices: [slices[1], slices[0], slices[2]] } };
      expect(await client.verifyLocally(swapped, info.modelId)).toMatchObject({ ok: false });
      const otherInput = { ...r, input: Array.from(x5) };
      expect(await client.verifyLocally(otherInput, info.modelId)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^slice 0: inputHashMismatch/),
      });
    } finally {
      await t.stop();
    }
  });
});

describe('a sliced model settled on the AVS (proven path: a proof per slice, chained on chain)', () => {
  let chain: LocalChain;
  let avs: LocalAvs;
  let deploymentFile: string;
  const op = () => avs.operators[0]!;

  beforeAll(async () => {
    chain = await startHardhatNode();
    avs = await setUpLocalAvs(chain.url, [m]);
    deploymentFile = join(await mkdtemp(join(tmpdir(), 'zkinfer-sliced-avs-')), 'deployment.json');
    await writeFile(deploymentFile, JSON.stringify(avs.deployment));
  }, 120_000);

  afterAll(async () => {
    await chain?.stop();
  });

  async function task(x: ArrayLike<number>) {
    const block = await avs.provider.getBlockNumber();
    return avs.owner.createTask(
      slicedModelId(m),
      await inputHashOf(x, m.slices[0]!.manifest.input),
      BigInt(block + 500),
      1000n,
    );
  }

  it('registers under the id zkinfer serves it by, and refuses every chain that does not prove the task', async () => {
    const ids = m.slices.map((a) => `0x${a.manifest.setup!.modelId}`);
    expect(await avs.owner.service.getFunction('slicesOf')(`0x${slicedModelId(m)}`)).toEqual(ids);
    expect(await avs.owner.service.getFunction('slicedModelId')(ids)).toBe(`0x${slicedModelId(m)}`);
    const register = (by: LocalAvs['owner'], slices: string[]) =>
      revertName(by.send(by.service, 'registerSlicedModel', [slices]));
    expect(await register(op(), ids)).toBe('NotOwner');
    expect(await register(avs.owner, ids)).toBe('ModelExists');
    expect(await register(avs.owner, [ids[0]!])).toBe('BadModel');
    expect(await register(avs.owner, [ids[0]!, `0x${'ab'.repeat(32)}`])).toBe('UnknownSlice');
    const { taskId, task: t } = await task(x5);
    const binding = await op().bindingOf(taskId);
    const honest = await proveSliced(m, x5, binding);
    const other = await proveSliced(m, x6, binding); // same task binding, another input
    const s = honest.slices;
    const refused: [string, readonly ProofBundle[], string][] = [
      ['swapped slices', [s[1]!, s[0]!, s[2]!], 'InputCommitmentMismatch'],
      ['a middle slice of another input', [s[0]!, other.slices[1]!, s[2]!], 'ChainBroken'],
      [
        'a right last slice on a wrong middle',
        [other.slices[0]!, other.slices[1]!, s[2]!],
        'InputCommitmentMismatch',
      ],
      ['two slices', [s[0]!, s[1]!], 'WrongSliceCount'],
      [
        "a slice's proof swapped for another input's",
        [s[0]!, { ...s[1]!, proof: other.slices[1]!.proof }, s[2]!],
        'InvalidSliceProof',
      ],
    ];
    for (const [what, slices, name] of refused)
      expect(await revertName(op().submitProvenSliced(taskId, t, slices)), what).toBe(name);
    // A's slices for this task's input, but proved with binding 1, not this task's
    const rebound = await task(x5);
    expect(await revertName(op().submitProvenSliced(rebound.taskId, rebound.task, A.slices))).toBe(
      'BindingMismatch',
    );
    // one proof does not settle a sliced model, nor can its result be attested
    expect(await revertName(op().submitProven(taskId, t, s[2]!.proof, s[2]!.publicSignals))).toBe(
      'SlicedModel',
    );
    const resultHash = resultHashOf(s[2]!.publicSignals);
    const batch = { taskIds: [taskId], tasks: [t], resultHashes: [resultHash] };
    const signed = await Promise.all(
      avs.operators.map(async (o) => ({
        signer: await o.address(),
        signature: await o.signAttestation(batch),
      })),
    );
    expect(await revertName(op().attest(batch, signed))).toBe('ProvenOnly');
    // the honest chain settles; an auditor re-checks it from the chain with the slice keys
    const receipt = await op().submitProvenSliced(taskId, t, s);
    const ev = op()
      .events(receipt)
      .find((e) => e.name === 'SlicedTaskProven');
    expect(ev?.args[2]).toBe(resultHash);
    expect(TASK_STATUS[await op().status(taskId)]).toBe('Proven');
    const auditCli = (...key: string[]) =>
      zkinfer('audit', 'task', String(taskId), '--rpc', chain.url, '--deployment', deploymentFile, ...key);
    const audit = await auditCli('--artifacts', dir);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/slice 2: Groth16 proof verifies off-chain/);
    // with the keys in another order the audit fails
    const keys = await sliceVkeys(m);
    const wrong = join(dirname(deploymentFile), 'swapped-keys.json');
    await writeFile(wrong, JSON.stringify({ slices: [keys[1], keys[0], keys[2]] }));
    const bad = await auditCli('--vkey', wrong);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/FAIL slice 0 vkey hashes to the registered vkHash/);
  }, 180_000);

  it('settle: true through the gateway: the miner proves every slice with the task binding, the chain settles it', async () => {
    // the honest miner of the tests above (started here when this test runs alone)
    if (!miners[0])
      miners.push(
        await startMinerProcess({
          hotkey: { uri: '//SlicedHonest' },
          models: [dir],
          workers: 2,
          allowedHotkeys: [(await hotkeyFromUri('//SlicedValidator')).ss58],
        }),
      );
    const settler = new GatewaySettler(
      avs.operators[1]!,
      join(dirname(deploymentFile), 'queue.db'),
      10n ** 12n,
      500,
    );
    const t = await startTestGateway({
      models: [dir],
      miners: [{ hotkey: miners[0]!.hotkey, url: miners[0]!.url }],
      validatorUri: '//SlicedValidator',
      settler,
    });
    try {
      const client = new GatewayClient(t.url);
      expect(await client.model(m.manifest.name)).toMatchObject({ settlement: true });
      const r = await client.infer(slicedModelId(m), Array.from(x6), { settle: true });
      expect(r.settlement).toMatchObject({ status: 'settled', error: null });
      const taskId = r.settlement!.taskId;
      expect(TASK_STATUS[await op().status(taskId)]).toBe('Proven');
      const logs = await op().tasks.queryFilter(op().tasks.filters['SlicedTaskProven']!(taskId), 0);
      expect(logs.map((l) => l.transactionHash)).toEqual([r.settlement!.txHash]);
      expect(await client.verifyLocally(r, slicedModelId(m))).toEqual({ ok: true });
    } finally {
      await t.stop();
    }
  }, 120_000);
});
