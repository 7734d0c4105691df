import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { G1, G2, type GroupLayout } from '../../prover/engine/bucketMsm.ts';
import { bytesLE } from '../../prover/engine/frMath.ts';
import { fixedBase } from '../../prover/engine/generatorTimes.ts';
import { CurveHeap } from '../../prover/engine/wasmCurve.ts';
import { FIELD_MODULUS as R } from '../core/field.ts';
import { Writer, writePoints } from './binWriter.ts';
import { generatorBytes, Q } from './bn254.ts';
import { lagrangeLevel, powers } from './tauScalars.ts';

/**
 * A prepared Powers of Tau file computed from known secrets τ, α, β — the file snarkjs's
 * new → contribute → prepare phase 2 would produce for the same secrets, made directly: every
 * point is a multiple of a generator by a scalar computed here, so the group FFTs of "prepare
 * phase 2" are replaced by field arithmetic on the scalars (the Lagrange basis at τ) and one
 * fixed-base multiplication per point. INSECURE by construction: whoever runs it knows τ.
 *
 * Layout (iden3 binary file "ptau", version 1, 11 sections, points affine in little-endian
 * Montgomery form): 1 header; 2 τ^i·G1 (i < 2n−1); 3 τ^i·G2 (i < n); 4 ατ^i·G1; 5 βτ^i·G1;
 * 6 β·G2; 7 contributions (none recorded); 12–15 the same four families in the Lagrange basis of
 * every domain size 2^k, k = 0..power (section 12 also k = power+1), as snarkjs's
 * `lagrangeEvaluations` of the power sections.
 */

export interface PtauSecrets {
  readonly tau: bigint;
  readonly alpha: bigint;
  readonly beta: bigint;
}

export function randomSecrets(): PtauSecrets {
  const f = () => {
    for (;;) {
      const x = BigInt(`0x${randomBytes(40).toString('hex')}`) % R;
      if (x > 1n) return x;
    }
  };
  return { tau: f(), alpha: f(), beta: f() };
}

interface Section {
  readonly id: number;
  readonly bytes: number;
  write(w: Writer): Promise<void>;
}

/**
 * Writes the prepared ptau of 2^power for `secrets` to `out` (through a temporary file, renamed
 * when complete). `onProgress` hears of each section.
 */
export async function writePreparedPtau(
  power: number,
  out: string,
  secrets: PtauSecrets,
  onProgress: (m: string) => void = () => {},
): Promise<void> {
  const { tau, alpha, beta } = secrets;
  const n = 2 ** power;
  const heap = await CurveHeap.create();
  const gens = generatorBytes();
  const g1 = fixedBase(heap, G1, gens.g1);
  const g2 = fixedBase(heap, G2, gens.g2);
  const pointsOf = (group: GroupLayout) => (group === G1 ? g1 : g2);
  const family = (
    id: number,
    group: GroupLayout,
    count: number,
    scalars: (f: number, t: number) => bigint[],
  ): Section => ({
    id,
    bytes: count * group.affine,
    write: (w) => writePoints(w, heap, pointsOf(group), count, scalars),
  });
  /** Sections 12–15: the Lagrange levels k = 0..top, each scaled by `factor`. */
  const lagrange = (id: number, group: GroupLayout, top: number, factor: bigint): Section => ({
    id,
    bytes: (2 ** (top + 1) - 1) * group.affine,
    write: async (w) => {
      for (let k = 0; k <= top; k++) {
        const truncated = k === power + 1;
        await writePoints(w, heap, pointsOf(group), 2 ** k, (f, t) =>
          lagrangeLevel(tau, k, truncated, f, t).map((v) => (v * factor) % R),
        );
      }
    },
  });
  const header: Section = {
    id: 1,
    bytes: 4 + 32 + 4 + 4,
    write: async (w) => {
      await w.u32(32);
      await w.bytes(bytesLE(Q));
      await w.u32(power);
      await w.u32(power);
    },
  };
  const sections: Section[] = [
    header,
    family(2, G1, 2 * n - 1, (f, t) => powers(tau, 1n, f, t)),
    family(3, G2, n, (f, t) => powers(tau, 1n, f, t)),
    family(4, G1, n, (f, t) => powers(tau, alpha, f, t)),
    family(5, G1, n, (f, t) => powers(tau, beta, f, t)),
    family(6, G2, 1, () => [beta]),
    { id: 7, bytes: 4, write: (w) => w.u32(0) },
    lagrange(12, G1, power + 1, 1n),
    lagrange(13, G2, power, 1n),
    lagrange(14, G1, power, alpha),
    lagrange(15, G1, power, beta),
  ];
  const tmp = `${out}.partial`;
  const fh = await open(tmp, 'w');
  try {
    const w = new Writer(fh);
    await w.bytes(Buffer.from('ptau', 'ascii'));
    await w.u32(1);
    await w.u32(sections.length);
    for (const s of sections) {
      onProgress(`section ${s.id}`);
      await w.u32(s.id);
      await w.u64(s.bytes);
      await s.write(w);
    }
    await fh.close();
    await rename(tmp, out);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}
