import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Groth16Proof } from 'snarkjs';
import { openArtifacts } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { isSlicedDir } from '../circuits/slicedManifest.ts';
import { openSlicedSetUp, type SlicedModel, slicedModelId } from '../circuits/slicedModel.ts';
import { taskBinding } from '../contracts/settlementMath.ts';
import { computeBinding } from '../protocol/binding.ts';
import { CHALLENGE_PROOF_FORMAT, type ChallengeProof } from '../protocol/challengeProof.ts';
import { ZkinferError } from '../protocol/errors.ts';
import { batchVerify } from './batchVerify.ts';
import { replayScores } from './core/replayScores.ts';
import { ValidatorStore } from './validatorStore.ts';
import { slicedBundleOf, verifySliced } from './verifySliced.ts';

/** What a demo (or any run) leaves for auditors: demo.json at the root of its directory. */
export interface RunRecord {
  readonly format: 'zkinfer/run@1';
  readonly artifacts: string;
  readonly validatorDb: string;
  readonly proofDir: string;
  readonly settlements: string;
  readonly chainId: string;
  readonly taskManager: string;
}

/** A settled task as the demo recorded it (its proof came from the settling transaction). */
export interface SettlementRecord {
  readonly taskId: number;
  readonly operator: string;
  readonly inputCommitment: string;
  readonly txHash: string;
  readonly proof: Groth16Proof;
  readonly publicSignals: readonly string[];
}

export interface AuditItem {
  readonly item: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Re-verifies every proof and settlement of a run and recomputes the validator's weights from its
 * log. A run over a sliced model re-checks each kept answer as a chain of slice proofs.
 */
export async function auditRun(dir: string): Promise<AuditItem[]> {
  let run: RunRecord;
  try {
    run = JSON.parse(await readFile(join(dir, 'demo.json'), 'utf8')) as RunRecord;
  } catch (cause) {
    throw new ZkinferError('IO', `${dir} has no readable demo.json (is it a demo directory?)`, { cause });
  }
  const items: AuditItem[] = [];
  const artifactsDir = join(dir, run.artifacts);

  // 1. challenge proofs kept by the validator
  const proofDir = join(dir, run.proofDir);
  const records: { item: string; p: ChallengeProof }[] = [];
  for (const file of (await readdir(proofDir)).filter((f) => f.endsWith('.json')).sort()) {
    const item = `proof ${run.proofDir}/${file}`;
    try {
      const p = JSON.parse(await readFile(join(proofDir, file), 'utf8')) as ChallengeProof;
      if (p.format !== CHALLENGE_PROOF_FORMAT) throw new Error(`format ${String(p.format)}`);
      records.push({ item, p });
    } catch (e) {
      items.push({ item, ok: false, detail: `unreadable: ${(e as Error).message}` });
    }
  }
  if (isSlicedDir(artifactsDir)) {
    // a sliced model: each kept answer is re-checked as a chain; sliced models do not settle yet
    const m = await openSlicedSetUp(artifactsDir, ['vkey']);
    items.push(...(await auditSlicedProofs(m, records)));
    const settlements = JSON.parse(await readFile(join(dir, run.settlements), 'utf8')) as SettlementRecord[];
    for (const s of settlements)
      items.push({
        item: `settlement task ${s.taskId}`,
        ok: false,
        detail: 'a settlement of a sliced model cannot be checked: sliced models do not settle on the AVS',
      });
    items.push(await auditWeights(join(dir, run.validatorDb)));
    return items;
  }
  const a = await openArtifacts(artifactsDir);
  const vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8')) as unknown;
  const n = a.manifest.publicSignals.names.length;
  const batch: { file: string; publicSignals: unknown; proof: unknown }[] = [];
  for (const { item, p } of records) {
    const expectedInput = (await inputHashOf(p.challenge.input, a.manifest.input)).toString();
    const expectedBinding = (await computeBinding(p.challenge.binding)).toString();
    if (p.modelId !== a.manifest.setup?.modelId) items.push({ item, ok: false, detail: 'another model' });
    else if (p.publicSignals?.[n - 2] !== expectedInput)
      items.push({ item, ok: false, detail: 'input hash does not match the challenge input' });
    else if (p.publicSignals?.[n - 1] !== expectedBinding)
      items.push({ item, ok: false, detail: 'binding does not match the challenge' });
    else batch.push({ file: item, publicSignals: p.publicSignals, proof: p.proof });
  }
  const verdicts = await batchVerify(vkey, batch);
  verdicts.forEach((v, i) =>
    items.push({ item: batch[i]!.file, ok: v.ok, detail: v.ok ? 'verified' : `${v.reason}: ${v.detail}` }),
  );

  // 2. settlements, with the binding the task manager demands recomputed here
  const settlements = JSON.parse(await readFile(join(dir, run.settlements), 'utf8')) as SettlementRecord[];
  const settleBatch: { item: string; publicSignals: unknown; proof: unknown }[] = [];
  for (const s of settlements) {
    const item = `settlement task ${s.taskId} (${s.txHash.slice(0, 10)}…)`;
    const binding = taskBinding(BigInt(run.chainId), run.taskManager, s.taskId, s.operator);
    if (s.publicSignals[n - 2] !== s.inputCommitment)
      items.push({ item, ok: false, detail: 'input hash differs from the task commitment' });
    else if (s.publicSignals[n - 1] !== binding.toString())
      items.push({ item, ok: false, detail: 'binding is not this task and operator' });
    else settleBatch.push({ item, publicSignals: s.publicSignals, proof: s.proof });
  }
  (await batchVerify(vkey, settleBatch)).forEach((v, i) =>
    items.push({
      item: settleBatch[i]!.item,
      ok: v.ok,
      detail: v.ok ? 'verified' : `${v.reason}: ${v.detail}`,
    }),
  );

  // 3. the validator's weights, recomputed from its request log
  items.push(await auditWeights(join(dir, run.validatorDb)));
  return items;
}

/** Kept answers of a sliced model: every slice proof, the chain, the input and the binding. */
async function auditSlicedProofs(
  m: SlicedModel,
  records: readonly { item: string; p: ChallengeProof }[],
): Promise<AuditItem[]> {
  const out: AuditItem[] = [];
  for (const { item, p } of records) {
    if (p.modelId !== slicedModelId(m)) {
      out.push({ item, ok: false, detail: 'another model' });
      continue;
    }
    if (!p.slices) {
      out.push({ item, ok: false, detail: 'one proof kept for a sliced model: its slices are missing' });
      continue;
    }
    const binding = await computeBinding(p.challenge.binding);
    const v = await verifySliced(m, slicedBundleOf(p, m, binding), { input: p.challenge.input, binding });
    out.push({
      item,
      ok: v.ok,
      detail: v.ok ? `verified (${p.slices.length} slices, chained)` : `${v.reason}: ${v.detail}`,
    });
  }
  return out;
}

/** The validator's weights, recomputed from its request log. */
async function auditWeights(dbPath: string): Promise<AuditItem> {
  const store = new ValidatorStore(dbPath);
  try {
    const r = replayScores(store.requests(), (round) => store.weightsOf(round));
    return {
      item: 'validator weights',
      ok: r.ok,
      detail: r.ok ? `${r.rounds} rounds reproduced exactly` : r.mismatches.slice(0, 3).join('; '),
    };
  } finally {
    store.close();
  }
}
