import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProveJobResult } from '../prover/pool/messages.ts';
import { proveMany } from '../prover/proveMany.ts';
import { holdoutInputs } from '../test/helpers/fixtures.ts';
import { setUpModel } from '../test/helpers/provedModel.ts';
import { type BatchItem, batchVerify } from './batchVerify.ts';
import { verifyProof } from './verifyProof.ts';

let vkey: unknown;
let proofs: ProveJobResult[];

beforeAll(async () => {
  const a = await setUpModel('mlp-digits');
  vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8'));
  const inputs = holdoutInputs('mlp-digits');
  proofs = await proveMany(
    a,
    Array.from({ length: 32 }, (_, i) => ({ input: inputs[i]!, binding: BigInt(500 + i) })),
    2,
  );
}, 300_000);

const items = (): BatchItem[] => proofs.map((p) => ({ publicSignals: p.publicSignals, proof: p.proof }));

describe('batchVerify', () => {
  it('32 valid proofs: the batch agrees with 32 single verifications', async () => {
    const batch = await batchVerify(vkey, items());
    const singles = await Promise.all(proofs.map((p) => verifyProof(vkey, p.publicSignals, p.proof)));
    expect(batch).toEqual(singles);
    expect(batch.every((r) => r.ok)).toBe(true);
  });

  it('names exactly the one invalid proof among 32', async () => {
    const list = items();
    const signals = [...proofs[13]!.publicSignals];
    signals[signals.length - 1] = '12345'; // claims another binding
    list[13] = { ...list[13]!, publicSignals: signals };
    const batch = await batchVerify(vkey, list);
    expect(batch.map((r, i) => (r.ok ? -1 : i)).filter((i) => i >= 0)).toEqual([13]);
    expect(batch[13]).toMatchObject({ ok: false, reason: 'pairing' });
  });

  it('finds several invalid proofs, a swapped proof and malformed items', async () => {
    const list = items();
    list[3] = { publicSignals: proofs[3]!.publicSignals, proof: proofs[4]!.proof }; // proof of another statement
    list[20] = {
      publicSignals: proofs[20]!.publicSignals,
      proof: { ...proofs[20]!.proof, pi_a: ['1', '1', '1'] },
    }; // off-curve
    list[31] = { publicSignals: ['1'], proof: proofs[31]!.proof };
    const batch = await batchVerify(vkey, list);
    expect(batch.map((r, i) => (r.ok ? '' : `${i}:${r.reason}`)).filter(Boolean)).toEqual([
      '3:pairing',
      '20:malformed',
      '31:malformed',
    ]);
  });
});
