import { randomBytes } from 'node:crypto';
import { Scalar, utils } from 'ffjavascript';
import type { Groth16Proof, VerificationKey } from 'snarkjs';
import { FIELD_MODULUS } from '../circuits/core/field.ts';
import { InvalidInputError } from '../protocol/errors.ts';
import { bn128 } from './bn128.ts';
import { proofShapeError, publicSignalsError, vkeyShapeError } from './proofShape.ts';
import { type VerifyResult, verifyProof } from './verifyProof.ts';

export interface BatchItem {
  readonly publicSignals: unknown;
  readonly proof: unknown;
}

// The slice of ffjavascript's curve API used here (points are byte buffers in its own layout).
type Point = Uint8Array;
interface Group {
  fromObject(o: unknown): Point;
  isValid(p: Point): boolean;
  neg(p: Point): Point;
  add(a: Point, b: Point): Point;
  timesScalar(p: Point, s: bigint): Point;
  multiExpAffine(bases: Uint8Array, scalars: Uint8Array): Promise<Point>;
  F: { n8: number };
}
interface Curve {
  G1: Group;
  G2: Group;
  Fr: { n8: number };
  pairingEq(...args: Point[]): Promise<boolean>;
}

interface Prepared {
  readonly index: number;
  readonly a: Point;
  readonly b: Point;
  readonly c: Point;
  readonly signals: readonly bigint[];
}

/**
 * Verifies many proofs of one circuit with one multi-pairing. With random 128-bit weights r_i,
 *   Π e(-r_i·A_i, B_i) · e(Σ r_i·L_i, γ) · e(Σ r_i·C_i, δ) · e((Σ r_i)·α, β) = 1,
 * where Σ r_i·L_i is one multi-exponentiation over the key's IC with folded scalars. A cheating
 * batch passes with probability ≤ 2^-128. When the batch fails, halves are checked recursively
 * until each invalid proof is named. Returns one result per item, in order.
 */
export async function batchVerify(vkey: unknown, items: readonly BatchItem[]): Promise<VerifyResult[]> {
  const vkeyError = vkeyShapeError(vkey);
  if (vkeyError) throw new InvalidInputError(vkeyError);
  const key = vkey as VerificationKey & Record<string, unknown>;
  const curve = (await bn128()) as Curve;
  const results: VerifyResult[] = new Array(items.length);
  const prepared: Prepared[] = [];
  items.forEach((item, index) => {
    const shape = publicSignalsError(item.publicSignals, key.nPublic) ?? proofShapeError(item.proof);
    if (shape) {
      results[index] = { ok: false, reason: 'malformed', detail: shape };
      return;
    }
    const p = utils.unstringifyBigInts(item.proof) as { pi_a: bigint[]; pi_b: bigint[][]; pi_c: bigint[] };
    const a = curve.G1.fromObject(p.pi_a);
    const b = curve.G2.fromObject(p.pi_b);
    const c = curve.G1.fromObject(p.pi_c);
    if (!curve.G1.isValid(a) || !curve.G2.isValid(b) || !curve.G1.isValid(c)) {
      results[index] = { ok: false, reason: 'malformed', detail: 'a proof point is not on the curve' };
      return;
    }
    prepared.push({ index, a, b, c, signals: (item.publicSignals as string[]).map((s) => BigInt(s)) });
  });
  const k = {
    ic: (key['IC'] as unknown[]).map((pt) => curve.G1.fromObject(utils.unstringifyBigInts(pt))),
    alpha: curve.G1.fromObject(utils.unstringifyBigInts(key['vk_alpha_1'])),
    beta: curve.G2.fromObject(utils.unstringifyBigInts(key['vk_beta_2'])),
    gamma: curve.G2.fromObject(utils.unstringifyBigInts(key['vk_gamma_2'])),
    delta: curve.G2.fromObject(utils.unstringifyBigInts(key['vk_delta_2'])),
  };

  const check = async (group: readonly Prepared[]): Promise<void> => {
    if (group.length === 0) return;
    if (group.length === 1) {
      const only = group[0]!;
      results[only.index] = await verifyProof(
        vkey,
        items[only.index]!.publicSignals,
        items[only.index]!.proof as Groth16Proof,
      );
      return;
    }
    if (await batchHolds(curve, k, group)) {
      for (const g of group) results[g.index] = { ok: true };
      return;
    }
    const mid = Math.ceil(group.length / 2);
    await check(group.slice(0, mid));
    await check(group.slice(mid));
  };
  await check(prepared);
  return results;
}

async function batchHolds(
  curve: Curve,
  k: { ic: Point[]; alpha: Point; beta: Point; gamma: Point; delta: Point },
  group: readonly Prepared[],
): Promise<boolean> {
  const r = group.map(() => BigInt(`0x${randomBytes(16).toString('hex')}`) | 1n);
  const frN8 = curve.Fr.n8;
  const g1N8 = curve.G1.F.n8 * 2;
  // Σ r_i·L_i = (Σ r_i)·IC_0 + Σ_j (Σ_i r_i·s_ij)·IC_j: fold the scalars, then one MSM
  const nPublic = k.ic.length - 1;
  const icBases = new Uint8Array(g1N8 * nPublic);
  const icScalars = new Uint8Array(frN8 * nPublic);
  for (let j = 0; j < nPublic; j++) {
    icBases.set(k.ic[j + 1]!, j * g1N8);
    let s = 0n;
    group.forEach((g, i) => {
      s = (s + r[i]! * g.signals[j]!) % FIELD_MODULUS;
    });
    Scalar.toRprLE(icScalars, j * frN8, s, frN8);
  }
  const rSum = r.reduce((x, y) => x + y, 0n) % FIELD_MODULUS;
  const lSum = curve.G1.add(
    await curve.G1.multiExpAffine(icBases, icScalars),
    curve.G1.timesScalar(k.ic[0]!, rSum),
  );
  const cBases = new Uint8Array(g1N8 * group.length);
  const cScalars = new Uint8Array(frN8 * group.length);
  group.forEach((g, i) => {
    cBases.set(g.c, i * g1N8);
    Scalar.toRprLE(cScalars, i * frN8, r[i]!, frN8);
  });
  const cSum = await curve.G1.multiExpAffine(cBases, cScalars);
  const pairs: Point[] = [];
  group.forEach((g, i) => pairs.push(curve.G1.neg(curve.G1.timesScalar(g.a, r[i]!)), g.b));
  pairs.push(lSum, k.gamma, cSum, k.delta, curve.G1.timesScalar(k.alpha, rSum), k.beta);
  return curve.pairingEq(...pairs);
}
