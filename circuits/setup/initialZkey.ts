import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { blake2b } from '@noble/hashes/blake2b';
import { ZkinferError } from '../../protocol/errors.ts';
import { G1, G2, type GroupLayout } from '../../prover/engine/bucketMsm.ts';
import { bytesLE, readLE } from '../../prover/engine/frMath.ts';
import { type FixedBase, fixedBase, generatorTimes } from '../../prover/engine/generatorTimes.ts';
import { CurveHeap } from '../../prover/engine/wasmCurve.ts';
import { readSection, readSectionTable } from '../binSections.ts';
import { FIELD_MODULUS as R } from '../core/field.ts';
import { readR1csInfo } from '../r1csInfo.ts';
import { BATCH, Writer } from './binWriter.ts';
import { generatorBytes, Q } from './bn254.ts';
import { requiredPower } from './ptauInfo.ts';
import type { PtauSecrets } from './ptauWriter.ts';
import { lagrangeLevel, pack } from './tauScalars.ts';

/**
 * The initial Groth16 zkey (γ = δ = 1, no contribution yet) that snarkjs's `zkey new` writes for
 * an r1cs and a prepared ptau, computed from the ptau's secrets τ, α, β — byte for byte the same
 * file (initialZkey.test.ts compares them). snarkjs sums Lagrange points one signal at a time
 * (minutes per 2^16 constraints); every point is a known scalar times a generator, so here the
 * sums are taken on the scalars, u_s(τ) = Σ_c A[c][s]·L_c(τ) and likewise v, w, and each point
 * costs one fixed-base multiplication.
 *
 * Layout (iden3 binary file "zkey", version 1; sections in snarkjs's order 1, 2, 4, 3, 9, 8, 5,
 * 6, 7, 10): 1 protocol (1 = Groth16); 2 header (q, r, nVars, nPublic, domain size, α·G1, β·G1,
 * β·G2, γ·G2, δ·G1, δ·G2); 4 the A and B coefficients (times R² for the prover's Montgomery
 * arithmetic), plus one A entry per public signal (the constraints s·0 = 0 that make public
 * inputs independent); 3 IC_s = (β·u_s + α·v_s + w_s)(τ)·G1 for public s; 9 the H points, odd
 * Lagrange points of the doubled domain; 8 C = the same sums for private signals; 5 A = u_s·G1;
 * 6 B1 = v_s·G1; 7 B2 = v_s·G2; 10 the circuit hash (blake2b-512 of the points in uncompressed
 * form, in the order snarkjs hashes them) and zero contributions.
 *
 * INSECURE unless the secrets are: this is for dev ptaus only (setup.ts decides).
 */

/** The 2^256 Montgomery factor of Fr, squared: coefficients are stored times it. */
const R2 = (((1n << 256n) % R) * ((1n << 256n) % R)) % R;
/** snarkjs hashes H in chunks of this many points (its count per chunk never shrinks). */
const H_HASH_CHUNK = 1 << 14;

interface R1cs {
  readonly nVars: number;
  readonly nPublic: number;
  readonly nConstraints: number;
  /** Section 2: per constraint, for A, B, C: u32 count, then (u32 signal, 32-byte LE coefficient). */
  readonly constraints: Buffer;
}

async function readR1cs(path: string): Promise<R1cs> {
  const info = await readR1csInfo(path);
  const fh = await open(path, 'r');
  try {
    const table = await readSectionTable(fh, 'r1cs', path);
    const h = await readSection(fh, table, 1, path);
    if (h.readUInt32LE(0) !== 32 || readLE(h.subarray(4, 36)) !== R)
      throw new ZkinferError('ARTIFACT_INVALID', `${path} is not over BN254's scalar field`);
    const constraints = await readSection(fh, table, 2, path);
    return {
      nVars: info.nWires,
      nPublic: info.nPubOut + info.nPubIn,
      nConstraints: info.nConstraints,
      constraints,
    };
  } finally {
    await fh.close();
  }
}

/** u, v, w per signal at τ, and section 4's coefficient list, in one pass over the constraints. */
function sumAtTau(r: R1cs, L: readonly bigint[]) {
  const u = new Array<bigint>(r.nVars).fill(0n);
  const v = new Array<bigint>(r.nVars).fill(0n);
  const w = new Array<bigint>(r.nVars).fill(0n);
  const entries: Buffer[] = [];
  const entry = (matrix: number, c: number, s: number, coef: bigint) => {
    const e = Buffer.alloc(44);
    e.writeUInt32LE(matrix, 0);
    e.writeUInt32LE(c, 4);
    e.writeUInt32LE(s, 8);
    e.set(bytesLE((coef * R2) % R), 12);
    entries.push(e);
  };
  const b = r.constraints;
  let o = 0;
  for (let c = 0; c < r.nConstraints; c++) {
    for (const [k, acc] of [u, v, w].entries()) {
      const n = b.readUInt32LE(o);
      o += 4;
      for (let i = 0; i < n; i++) {
        const s = b.readUInt32LE(o);
        const coef = readLE(b.subarray(o + 4, o + 36));
        o += 36;
        if (s >= r.nVars)
          throw new ZkinferError('ARTIFACT_INVALID', `constraint ${c} names signal ${s} of ${r.nVars}`);
        acc[s] = (acc[s]! + coef * L[c]!) % R;
        if (k < 2) entry(k, c, s, coef);
      }
    }
  }
  for (let s = 0; s <= r.nPublic; s++) {
    u[s] = (u[s]! + L[r.nConstraints + s]!) % R;
    entry(0, r.nConstraints + s, s, 1n);
  }
  const count = Buffer.alloc(4);
  count.writeUInt32LE(entries.length);
  return { u, v, w, coefficients: Buffer.concat([count, ...entries]) };
}

/** Points and hashing on one engine heap. */
class PointMaker {
  readonly hash = blake2b.create({ dkLen: 64 });
  private readonly tables: Map<GroupLayout, FixedBase>;

  constructor(readonly heap: CurveHeap) {
    const gens = generatorBytes();
    this.tables = new Map([
      [G1, fixedBase(heap, G1, gens.g1)],
      [G2, fixedBase(heap, G2, gens.g2)],
    ]);
  }

  /** s·G for each scalar, affine little-endian Montgomery. */
  times(group: GroupLayout, scalars: readonly bigint[]): Uint8Array {
    const chunks: Uint8Array[] = [];
    generatorTimes(this.heap, this.tables.get(group)!, pack(scalars), scalars.length, (p) => chunks.push(p));
    return Buffer.concat(chunks);
  }

  /** Feeds points to the circuit hash in snarkjs's uncompressed big-endian form. */
  hashPoints(group: GroupLayout, points: Uint8Array): void {
    const n = points.length / group.affine;
    const mark = this.heap.top;
    try {
      const p = this.heap.allocCopy(points);
      this.heap.exports[`${group.name}m_batchLEMtoU`]!(p, n, p);
      this.hash.update(this.heap.read(p, points.length));
    } finally {
      this.heap.top = mark;
    }
  }

  hashU32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    this.hash.update(b);
  }

  /** A points section: count, then the points written and hashed batch by batch. */
  async section(w: Writer, group: GroupLayout, count: number, scalarsOf: (f: number, t: number) => bigint[]) {
    this.hashU32(count);
    for (let f = 0; f < count; f += BATCH) {
      const pts = this.times(group, scalarsOf(f, Math.min(count, f + BATCH)));
      await w.bytes(pts);
      this.hashPoints(group, pts);
    }
  }
}

/**
 * snarkjs hashes H as τ^(i+n)·G1 − τ^i·G1 read from the ptau's section 2, in chunks of
 * min(n − 1, 2^14) points from i = 0 while i < n − 1 — so for n > 2^14 the last chunk runs to
 * index 2n − 1, one point past the section when n is the ptau's size. Reading the file the same
 * way keeps the hash equal in every case.
 */
async function hashH(pm: PointMaker, ptau: FileHandle, tauG1At: number, n: number): Promise<void> {
  pm.hashU32(n - 1);
  const heap = pm.heap;
  const ex = heap.exports;
  for (let i = 0; i < n - 1; i += H_HASH_CHUNK) {
    const cnt = Math.min(n - 1, H_HASH_CHUNK);
    const hi = Buffer.alloc(cnt * 64);
    const lo = Buffer.alloc(cnt * 64);
    await ptau.read(hi, 0, hi.length, tauG1At + (i + n) * 64);
    await ptau.read(lo, 0, lo.length, tauG1At + i * 64);
    const mark = heap.top;
    try {
      const pHi = heap.allocCopy(hi);
      const pLo = heap.allocCopy(lo);
      const out = heap.alloc(cnt * G1.jacobian);
      for (let j = 0; j < cnt; j++) ex.g1m_subAffine!(pHi + j * 64, pLo + j * 64, out + j * G1.jacobian);
      ex.g1m_batchToAffine!(out, cnt, out);
      ex.g1m_batchLEMtoU!(out, cnt, out);
      pm.hash.update(heap.read(out, cnt * 64));
    } finally {
      heap.top = mark;
    }
  }
}

/** Writes the initial zkey of `r1csPath` for the ptau made from `secrets` to `out`. */
export async function writeInitialZkey(
  r1csPath: string,
  ptauPath: string,
  secrets: PtauSecrets,
  out: string,
  onProgress: (m: string) => void = () => {},
): Promise<void> {
  const { tau, alpha, beta } = secrets;
  const r1cs = await readR1cs(r1csPath);
  const ptau = await open(ptauPath, 'r');
  const tmp = `${out}.partial`;
  let zkey: FileHandle | undefined;
  try {
    const table = await readSectionTable(ptau, 'ptau', ptauPath);
    const head = await readSection(ptau, table, 1, ptauPath);
    const power = head.readUInt32LE(4 + head.readUInt32LE(0));
    const tauG1 = table.get(2);
    const [a1, b1, b2] = [4, 5, 6].map((id) => table.get(id));
    if (!tauG1 || !a1 || !b1 || !b2 || !table.has(12))
      throw new ZkinferError('PTAU_INVALID', `${ptauPath} is not a prepared ptau`);
    const readAt = async (pos: number, len: number) => {
      const b = Buffer.alloc(len);
      await ptau.read(b, 0, len, pos);
      return b;
    };
    const alpha1 = await readAt(a1.pos, 64);
    const beta1 = await readAt(b1.pos, 64);
    const beta2 = await readAt(b2.pos, 128);

    const pm = new PointMaker(await CurveHeap.create());
    const [tau1, alphaG1, betaG1] = [tau, alpha, beta].map((s) => Buffer.from(pm.times(G1, [s])));
    if (!tau1!.equals(await readAt(tauG1.pos + 64, 64)) || !alphaG1!.equals(alpha1) || !betaG1!.equals(beta1))
      throw new ZkinferError('PTAU_INVALID', `the secrets kept beside ${ptauPath} did not make it`);

    const cirPower = requiredPower(r1cs.nConstraints, r1cs.nPublic);
    if (cirPower > power)
      throw new ZkinferError(
        'PTAU_TOO_SMALL',
        `the circuit needs a ptau of power ${cirPower}; this one has ${power}`,
      );
    const n = 2 ** cirPower;
    onProgress(`summing ${r1cs.nConstraints} constraints at τ (domain 2^${cirPower})`);
    const L = lagrangeLevel(tau, cirPower, false, 0, n);
    const { u, v, w, coefficients } = sumAtTau(r1cs, L);
    const ic = (s: number) => (beta * u[s]! + alpha * v[s]! + w[s]!) % R;
    const nPrivate = r1cs.nVars - r1cs.nPublic - 1;
    const range = (f: number, t: number, at: (i: number) => bigint) =>
      Array.from({ length: t - f }, (_, i) => at(f + i));

    zkey = await open(tmp, 'w');
    const wr = new Writer(zkey);
    await wr.bytes(Buffer.from('zkey', 'ascii'));
    await wr.u32(1);
    await wr.u32(10);
    const section = async (id: number, bytes: number, body: () => Promise<void>) => {
      await wr.u32(id);
      await wr.u64(bytes);
      await body();
    };
    const gens = generatorBytes();
    await section(1, 4, () => wr.u32(1));
    await section(2, 4 + 32 + 4 + 32 + 12 + 64 * 3 + 128 * 3, async () => {
      await wr.u32(32);
      await wr.bytes(bytesLE(Q));
      await wr.u32(32);
      await wr.bytes(bytesLE(R));
      await wr.u32(r1cs.nVars);
      await wr.u32(r1cs.nPublic);
      await wr.u32(n);
      // α, β from the ptau; γ = δ = 1 until a contribution
      for (const [g, p] of [
        [G1, alpha1],
        [G1, beta1],
        [G2, beta2],
        [G2, gens.g2],
        [G1, gens.g1],
        [G2, gens.g2],
      ] as const) {
        await wr.bytes(p);
        pm.hashPoints(g, p);
      }
    });
    await section(4, coefficients.length, () => wr.bytes(coefficients));
    onProgress('IC and H points');
    await section(3, (r1cs.nPublic + 1) * 64, () =>
      pm.section(wr, G1, r1cs.nPublic + 1, (f, t) => range(f, t, ic)),
    );
    // H: the odd points of level 2n's Lagrange basis (the last level of section 12 lacks τ^(2N−1))
    await section(9, n * 64, async () => {
      for (let f = 0; f < n; f += BATCH) {
        const t = Math.min(n, f + BATCH);
        const level = lagrangeLevel(tau, cirPower + 1, cirPower === power, 2 * f, 2 * t);
        await wr.bytes(
          pm.times(
            G1,
            range(0, t - f, (i) => level[2 * i + 1]!),
          ),
        );
      }
    });
    await hashH(pm, ptau, tauG1.pos, n);
    onProgress('C, A and B points');
    await section(8, nPrivate * 64, () =>
      pm.section(wr, G1, nPrivate, (f, t) => range(f, t, (i) => ic(i + r1cs.nPublic + 1))),
    );
    await section(5, r1cs.nVars * 64, () => pm.section(wr, G1, r1cs.nVars, (f, t) => u.slice(f, t)));
    await section(6, r1cs.nVars * 64, () => pm.section(wr, G1, r1cs.nVars, (f, t) => v.slice(f, t)));
    await section(7, r1cs.nVars * 128, () => pm.section(wr, G2, r1cs.nVars, (f, t) => v.slice(f, t)));
    await section(10, 64 + 4, async () => {
      await wr.bytes(pm.hash.digest());
      await wr.u32(0);
    });
    await zkey.close();
    zkey = undefined;
    await rename(tmp, out);
  } finally {
    await zkey?.close().catch(() => {});
    await rm(tmp, { force: true });
    await ptau.close();
  }
}
