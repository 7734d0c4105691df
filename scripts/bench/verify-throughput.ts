/**
 * Batch verification of 32 proofs of one circuit against 32 single snarkjs verifications, in one run.
 * Usage: node --import tsx scripts/bench/verify-throughput.ts [model] [count]
 */
import { readFile } from 'node:fs/promises';
import { loadQuantGraph } from '../../circuits/artifacts.ts';
import { proveMany } from '../../prover/proveMany.ts';
import { batchVerify } from '../../verifier/batchVerify.ts';
import { verifyProof } from '../../verifier/verifyProof.ts';
import { benchModel, machine, percentile, writeReport } from './benchLib.ts';

const modelName = process.argv[2] ?? 'mlp-digits';
const count = Number(process.argv[3] ?? 32);
const repeats = 5;

const a = await benchModel(modelName);
const graph = await loadQuantGraph(a);
const vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8')) as unknown;
const size = graph.tensors[graph.input.tensor]!.lo.length;
const proofs = await proveMany(
  a,
  Array.from({ length: count }, (_, i) => ({
    input: Array.from({ length: size }, (_, j) => ((i + j * 3) % 11) / 10),
    binding: BigInt(i + 1),
  })),
);
const items = proofs.map((p) => ({ publicSignals: p.publicSignals, proof: p.proof }));
const withBad = items.map((it, i) =>
  i === Math.floor(count / 2) ? { ...it, publicSignals: [...it.publicSignals.slice(0, -1), '7'] } : it,
);

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}
const singles = await time(async () => {
  for (const it of items)
    if (!(await verifyProof(vkey, it.publicSignals, it.proof)).ok) throw new Error('single failed');
});
const batch = await time(async () => {
  if (!(await batchVerify(vkey, items)).every((r) => r.ok)) throw new Error('batch failed');
});
const batchBad = await time(async () => {
  const bad = (await batchVerify(vkey, withBad)).flatMap((r, i) => (r.ok ? [] : [i]));
  if (bad.length !== 1 || bad[0] !== Math.floor(count / 2)) throw new Error(`wrong culprit ${bad}`);
});
const med = (v: number[]) => Math.round(percentile(v, 0.5));
const ratio = Math.round((med(singles) / med(batch)) * 100) / 100;
const ratioBad = Math.round((med(singles) / med(batchBad)) * 100) / 100;
const md = [
  `# Verification throughput — ${modelName}, ${count} proofs`,
  '',
  `Measured ${new Date().toISOString()} on ${machine()}; median of ${repeats} runs after a warm-up.`,
  '',
  '| method | ms for all proofs | ms per proof |',
  '|---|---:|---:|',
  `| ${count} × snarkjs groth16.verify | ${med(singles)} | ${(med(singles) / count).toFixed(1)} |`,
  `| batchVerify (all valid) | ${med(batch)} | ${(med(batch) / count).toFixed(1)} |`,
  `| batchVerify (1 invalid, found by bisection) | ${med(batchBad)} | ${(med(batchBad) / count).toFixed(1)} |`,
  '',
  `- batch vs single: **${ratio}×** (all valid), **${ratioBad}×** with one invalid proof named`,
  '',
].join('\n');
const path = await writeReport(`verify-throughput-${modelName}`, md, {
  model: modelName,
  count,
  machine: machine(),
  singlesMs: singles,
  batchMs: batch,
  batchOneInvalidMs: batchBad,
  ratio,
  ratioBad,
});
console.log(md);
console.error(`report: ${path}`);
const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
await g.curve_bn128?.terminate();
