/**
 * Gas per AVS action and per settled result, on a real local node, for the bundled model with its
 * outputs public (12 public signals) and hashed (3), and for a sliced model (deep-mlp-digits cut into
 * 2 and 3 slices) settled by a proof per slice. Usage: node --import tsx scripts/bench/settlement-gas.ts
 */
import { join } from 'node:path';
import { openArtifacts } from '../../circuits/artifacts.ts';
import { compileModel } from '../../circuits/compile.ts';
import { inputHashOf } from '../../circuits/inputHash.ts';
import { setupArtifacts } from '../../circuits/setup/setup.ts';
import { openSliced, type SlicedModel, slicedModelId } from '../../circuits/slicedModel.ts';
import type { AvsTask } from '../../contracts/avsClient.ts';
import { setUpLocalAvs } from '../../contracts/localAvs.ts';
import { startHardhatNode } from '../../contracts/localChain.ts';
import { proveOnce } from '../../prover/proveOnce.ts';
import { proveSliced } from '../../prover/proveSliced.ts';
import { machine, ROOT, terminateCurve, writeReport } from './benchLib.ts';

async function model(hash: boolean) {
  const dir = join(ROOT, '.zkinfer-cache', 'bench', hash ? 'mlp-digits-hashed' : 'mlp-digits');
  await compileModel(join(ROOT, 'test', 'fixtures', 'models', 'mlp-digits.onnx'), {
    outDir: dir,
    hashOutputs: hash,
  });
  let a = await openArtifacts(dir);
  if (!a.manifest.setup) {
    await setupArtifacts(dir, join(ROOT, 'test', 'fixtures', 'ptau', 'dev-pot13.ptau'));
    a = await openArtifacts(dir);
  }
  return a;
}

const DEV_PTAU = join(ROOT, 'test', 'fixtures', 'ptau', 'dev-pot13.ptau');

/** deep-mlp-digits cut under `budget` constraints, with keys. */
async function sliced(budget: number): Promise<SlicedModel> {
  const dir = join(ROOT, '.zkinfer-cache', 'bench', `deep-mlp-digits-sliced-${budget}`);
  await compileModel(join(ROOT, 'test', 'fixtures', 'models', 'deep-mlp-digits.onnx'), {
    outDir: dir,
    maxConstraints: budget,
  });
  const m = await openSliced(dir);
  for (const a of m.slices) if (!a.manifest.setup) await setupArtifacts(a.dir, DEV_PTAU);
  return openSliced(dir);
}

const chain = await startHardhatNode();
const rows: { action: string; model: string; gas: number }[] = [];
try {
  const models = [await model(false), await model(true)];
  const slicedModels = [await sliced(2400), await sliced(1800)];
  const avs = await setUpLocalAvs(chain.url, [...models, ...slicedModels]);
  const x = Array.from({ length: 64 }, (_, i) => (i % 9) / 8);
  const [op0, op1, op2] = avs.operators as [typeof avs.owner, typeof avs.owner, typeof avs.owner];
  for (const a of models) {
    const label = `${a.manifest.publicSignals.names.length} public signals`;
    const newTask = async () => {
      const block = await avs.provider.getBlockNumber();
      return avs.owner.createTask(
        a.manifest.setup!.modelId,
        await inputHashOf(x, a.manifest.input),
        BigInt(block + 100),
        10_000n,
      );
    };
    const created = await newTask();
    rows.push({ action: 'createTask', model: label, gas: Number(created.receipt.gasUsed) });
    const bundle = await proveOnce(a, x, await op0.bindingOf(created.taskId));
    const proven = await op0.submitProven(created.taskId, created.task, bundle.proof, bundle.publicSignals);
    rows.push({ action: 'submitProven (proven settlement)', model: label, gas: Number(proven.gasUsed) });
    for (const size of [1, 4, 8]) {
      const batch = { taskIds: [] as number[], tasks: [] as AvsTask[], resultHashes: [] as string[] };
      for (let k = 0; k < size; k++) {
        const t = await newTask();
        batch.taskIds.push(t.taskId);
        batch.tasks.push(t.task);
        batch.resultHashes.push(await avs.owner.resultHashOf(bundle.publicSignals));
      }
      const signed = await Promise.all(
        [op0, op1, op2].map(async (o) => ({
          signer: await o.address(),
          signature: await o.signAttestation(batch),
        })),
      );
      const { batchId, receipt, attested } = await op0.attest(batch, signed);
      await avs.provider.send('hardhat_mine', ['0x10']);
      const fin = await op0.finalize(batchId, attested);
      rows.push({
        action: `attest, batch of ${size} (3 signers)`,
        model: label,
        gas: Number(receipt.gasUsed),
      });
      rows.push({ action: `finalize, batch of ${size} (3 signers)`, model: label, gas: Number(fin.gasUsed) });
      rows.push({
        action: `optimistic settlement per result, batch of ${size}`,
        model: label,
        gas: Math.round(Number(receipt.gasUsed + fin.gasUsed) / size),
      });
    }
    // a signer the submitter left out joins the attestation during the window
    const left = await newTask();
    const leftBatch = {
      taskIds: [left.taskId],
      tasks: [left.task],
      resultHashes: [await avs.owner.resultHashOf(bundle.publicSignals)],
    };
    const bySigner = async (o: typeof op0) => ({
      signer: await o.address(),
      signature: await o.signAttestation(leftBatch),
    });
    const partial = await op0.attest(leftBatch, [await bySigner(op1), await bySigner(op2)]);
    const joined = await op0.joinAttestation(partial.batchId, partial.attested, await bySigner(op0));
    rows.push({ action: 'joinAttestation (one signer left out)', model: label, gas: Number(joined.gasUsed) });
    // a false attestation by all three signers, overturned: the challenge slashes each of them
    const lie = await newTask();
    const lieBatch = { taskIds: [lie.taskId], tasks: [lie.task], resultHashes: [`0x${'ab'.repeat(32)}`] };
    const lieSigned = await Promise.all(
      [op0, op1, op2].map(async (o) => ({
        signer: await o.address(),
        signature: await o.signAttestation(lieBatch),
      })),
    );
    const attested = await op0.attest(lieBatch, lieSigned);
    const challenger = avs.outsider;
    const proof = await proveOnce(a, x, await challenger.bindingOf(lie.taskId));
    const challenged = await challenger.challenge(
      attested.batchId,
      attested.attested,
      0,
      proof.proof,
      proof.publicSignals,
    );
    rows.push({ action: 'challenge (3 signers slashed)', model: label, gas: Number(challenged.gasUsed) });
  }
  // a sliced model's task: one proof per slice, each verified and chained on chain
  for (const m of slicedModels) {
    const k = m.slices.length;
    const label = `sliced, ${k} slices`;
    const block = await avs.provider.getBlockNumber();
    const created = await avs.owner.createTask(
      slicedModelId(m),
      await inputHashOf(x, m.slices[0]!.manifest.input),
      BigInt(block + 100),
      10_000n,
    );
    rows.push({ action: 'createTask', model: label, gas: Number(created.receipt.gasUsed) });
    const op = avs.operators[0]!;
    const bundle = await proveSliced(m, x, await op.bindingOf(created.taskId));
    const proven = await op.submitProvenSliced(created.taskId, created.task, bundle.slices);
    rows.push({ action: `submitProvenSliced (${k} proofs)`, model: label, gas: Number(proven.gasUsed) });
    rows.push({
      action: 'submitProvenSliced per slice',
      model: label,
      gas: Math.round(Number(proven.gasUsed) / k),
    });
  }
} finally {
  await chain.stop();
}
const md = [
  '# Settlement gas — bundled model (mlp-digits)',
  '',
  `Measured ${new Date().toISOString()} on ${machine()}, Hardhat 2 local node (cancun), solc 0.8.30 optimizer 200 runs.`,
  '',
  '| action | model | gas |',
  '|---|---|---:|',
  ...rows.map((r) => `| ${r.action} | ${r.model} | ${r.gas.toLocaleString('en-US')} |`),
  '',
  'Targets: proven ≤ 320k per result (met with hashed outputs); optimistic ≤ 150k per result with 3 signers (met from batches of 2 up). A challenge slashes at most 32 signers (the attestation bound).',
  '',
  'A sliced model settles by the proven path only: each slice costs one Groth16 check against its registered key (one pairing of 4 points; the inner slices publish 3 signals, the last here its 10 outputs too), the chain of hashes a comparison per slice, and the event logs every proof (auditors read them). The optimistic path would save the proofs only while nobody challenges; a challenge must carry the whole chain anyway, so the contract refuses to attest sliced tasks (ProvenOnly).',
  '',
].join('\n');
console.log(md);
console.error(`report: ${await writeReport('settlement-gas', md, { machine: machine(), rows })}`);
await terminateCurve();
