import { randomBytes } from 'node:crypto';
import { FIELD_MODULUS } from '../../circuits/core/field.ts';
import { type BaseSet, learnHot, msmSet, planTable } from './baseSet.ts';
import { type BaseTable, bucketMsm, buildTable, G1, G2 } from './bucketMsm.ts';
import { bytesLE, invMod, readLE, rootOfUnity } from './frMath.ts';
import { bitClasses, signedScalars, sliceScalars } from './scalars.ts';
import { CurveHeap } from './wasmCurve.ts';
import { type Groth16Zkey, parseZkey, wtnsValues } from './zkeyFile.ts';

/**
 * The native-cache Groth16 prover: everything that does not depend on the witness is done once
 * per model and kept in the model's own WASM memory — the parsed key (points already in the curve
 * library's layout), the constraint coefficients, FFT twiddles and the coset shift, and
 * precomputed fixed-base rows for the H points and for the bases of the signals that are
 * full-size in a sample witness. A proof then costs: build A/B/C evaluations (one WASM loop), six
 * FFTs, and five multi-exponentiations.
 *
 * Soundness does not rest on this code: a wrong proof fails verification. What this code must
 * get right is that every honest witness gives a proof that verifies — the property tests check
 * that against snarkjs's verifier over random witnesses of several circuits.
 */

export interface PrepareOptions {
  /**
   * Bytes for precomputed tables (H rows, then rows for the full-size witness signals); it also
   * bounds one bucket pass's scratch (~200 bytes a point, budget/256 points). The key itself is
   * always kept.
   */
  readonly tableBudgetBytes?: number;
}

/** Default budget for precomputed tables per model: 256 MiB. */
export const DEFAULT_TABLE_BUDGET = 256 * 1024 * 1024;

export interface PhaseTimes {
  abcMs: number;
  fftMs: number;
  /** Building tables for full-size witness values: the first proof of a model only. */
  learnMs: number;
  msmAMs: number;
  msmB1Ms: number;
  msmB2Ms: number;
  msmCMs: number;
  msmHMs: number;
  finishMs: number;
}

export interface Groth16Proof {
  pi_a: [string, string, string];
  pi_b: [[string, string], [string, string], [string, string]];
  pi_c: [string, string, string];
  protocol: 'groth16';
  curve: 'bn128';
}

export type KeyShape = Pick<Groth16Zkey, 'nVars' | 'nPublic' | 'domainSize' | 'power' | 'nCoefs'>;

export interface EngineProof {
  readonly proof: Groth16Proof;
  readonly publicSignals: string[];
  readonly phases: PhaseTimes;
}

/** first·base^i for i < count, in Fr Montgomery form, in a new block of the heap. */
function powerTable(heap: CurveHeap, base: bigint, first: bigint, count: number): number {
  const ex = heap.exports;
  const ptr = heap.alloc(count * 32);
  const step = heap.alloc(32);
  heap.write(step, bytesLE(base));
  ex['frm_toMontgomery']!(step, step);
  heap.write(ptr, bytesLE(first));
  ex['frm_toMontgomery']!(ptr, ptr);
  for (let i = 1; i < count; i++) ex['frm_mul']!(ptr + (i - 1) * 32, step, ptr + i * 32);
  return ptr;
}

function randomScalar(): bigint {
  // 64 random bytes reduced mod r: bias below 2^-250.
  return readLE(randomBytes(64)) % FIELD_MODULUS;
}

export class PreparedModel {
  /** The key's sizes; its points live in the heap only (the file's bytes are not kept). */
  readonly key: KeyShape;
  readonly heap: CurveHeap;
  readonly prepareMs: number;
  private readonly p: Record<string, number>;
  private readonly tables: { A: BaseSet; B1: BaseSet; B2: BaseSet; C: BaseSet; H: BaseTable };
  private budgetLeft: number;
  /** Points per bucket pass: bounds the per-proof scratch (~200 bytes a point) by the budget too. */
  private readonly maxEntries: number;
  private learned = false;
  /** 0..n−1: the H scalars are all used (they are dense, full-size). */
  private readonly hIndex: Int32Array;

  private constructor(
    key: Groth16Zkey,
    heap: CurveHeap,
    p: Record<string, number>,
    tables: PreparedModel['tables'],
    ms: number,
    budget: number,
    budgetLeft: number,
  ) {
    this.budgetLeft = budgetLeft;
    this.maxEntries = Math.max(1 << 16, Math.floor(budget / 256));
    this.key = {
      nVars: key.nVars,
      nPublic: key.nPublic,
      domainSize: key.domainSize,
      power: key.power,
      nCoefs: key.nCoefs,
    };
    this.heap = heap;
    this.p = p;
    this.tables = tables;
    this.prepareMs = ms;
    this.hIndex = Int32Array.from({ length: key.domainSize }, (_, i) => i);
  }

  /** Bytes of WASM memory this model holds (key, tables, per-proof buffers). */
  get memoryBytes(): number {
    return this.heap.byteLength;
  }

  get hTable(): { rows: number; c: number } {
    return { rows: this.tables.H.rows, c: this.tables.H.c };
  }

  /** Bases with precomputed rows for full-size witness values, per set (after the first proof). */
  get hotBases(): Record<'A' | 'B1' | 'B2' | 'C', number> {
    const t = this.tables;
    const m = (b: BaseSet) => b.hot?.table.n ?? 0;
    return { A: m(t.A), B1: m(t.B1), B2: m(t.B2), C: m(t.C) };
  }

  static async prepare(zkeyFile: Uint8Array, options: PrepareOptions = {}): Promise<PreparedModel> {
    const t0 = performance.now();
    const key = parseZkey(zkeyFile);
    const heap = await CurveHeap.create();
    const n = key.domainSize;
    const p: Record<string, number> = {};
    p['coefs'] = heap.allocCopy(key.coefs.subarray(4));
    for (const name of ['alpha1', 'beta1', 'beta2', 'delta1', 'delta2'] as const)
      p[name] = heap.allocCopy(key[name]);
    const A = heap.allocCopy(key.pointsA);
    const B1 = heap.allocCopy(key.pointsB1);
    const B2 = heap.allocCopy(key.pointsB2);
    const C = heap.allocCopy(key.pointsC);
    // FFT tables: twiddles ω^i and ω^-i (i < n/2), and inc^i / n, which scales the inverse
    // transform and moves the polynomial to the odd coset {inc·ω^j} in one multiplication.
    const inc = rootOfUnity(key.power + 1); // generates the odd coset
    const omega = (inc * inc) % FIELD_MODULUS;
    p['twF'] = powerTable(heap, omega, 1n, Math.max(1, n / 2));
    p['twI'] = powerTable(heap, invMod(omega), 1n, Math.max(1, n / 2));
    p['shift'] = powerTable(heap, inc, invMod(BigInt(n)), n);
    p['w'] = heap.alloc(key.nVars * 32);
    p['a'] = heap.alloc(n * 32);
    p['b'] = heap.alloc(n * 32);
    p['c'] = heap.alloc(n * 32);
    p['h'] = heap.alloc(n * 32);
    for (const t of ['piA', 'piB1', 'piC', 'resH', 'tmp1']) p[t] = heap.alloc(96);
    for (const t of ['piB2', 'tmp3']) p[t] = heap.alloc(288);
    p['scalar'] = heap.alloc(32);
    p['aff1'] = heap.alloc(64);
    p['aff2'] = heap.alloc(128);

    const budget = options.tableBudgetBytes ?? DEFAULT_TABLE_BUDGET;
    const plan = planTable(n, G1.affine, budget);
    const H = buildTable(heap, G1, key.pointsH, n, plan.rows, plan.c);
    const set = (ptr: number, count: number, group = G1): BaseSet => ({
      full: { group, ptr, n: count, rows: 1, c: 0 },
    });
    const tables = {
      A: set(A, key.nVars),
      B1: set(B1, key.nVars),
      B2: set(B2, key.nVars, G2),
      C: set(C, key.nVars - key.nPublic - 1),
      H,
    };
    const left = Math.max(0, budget - plan.rows * n * G1.affine);
    return new PreparedModel(key, heap, p, tables, performance.now() - t0, budget, left);
  }

  /** One proof from a .wtns file's bytes. */
  proveWtns(wtnsFile: Uint8Array): EngineProof {
    return this.prove(wtnsValues(wtnsFile, this.key.nVars));
  }

  /** One proof from witness values (32-byte little-endian field elements, normal form). */
  prove(witness: Uint8Array): EngineProof {
    const { heap, key, p } = this;
    const ex = heap.exports;
    const n = key.domainSize;
    const t0 = performance.now();
    heap.write(p['w']!, witness);
    ex['qap_buildABC']!(p['coefs']!, key.nCoefs, p['w']!, p['a']!, p['b']!, p['c']!, 0, n, 0, key.nVars);
    const t1 = performance.now();
    for (const x of [p['a']!, p['b']!, p['c']!]) {
      ex['zk_frFft']!(x, key.power, p['twI']!); // n · coefficients
      ex['zk_frBatchMul']!(x, p['shift']!, n, x); // coefficients of A(inc·X)
      ex['zk_frFft']!(x, key.power, p['twF']!); // A on the coset
    }
    ex['qap_joinABC']!(p['a']!, p['b']!, p['c']!, n, p['h']!);
    ex['frm_batchFromMontgomery']!(p['h']!, n, p['h']!);
    const t2 = performance.now();

    const w = signedScalars(witness, key.nVars);
    const wc = sliceScalars(w, key.nPublic + 1); // C covers the private signals only
    const t = this.tables;
    if (!this.learned) {
      this.learned = true;
      for (const set of [t.B2, t.A, t.B1]) this.budgetLeft -= learnHot(heap, set, w, this.budgetLeft); // G2 gains most
      this.budgetLeft -= learnHot(heap, t.C, wc, this.budgetLeft);
    }
    const classes = bitClasses(w);
    const t2b = performance.now();
    msmSet(heap, t.A, w, p['piA']!, p['tmp1']!, this.maxEntries, classes);
    const t3 = performance.now();
    msmSet(heap, t.B1, w, p['piB1']!, p['tmp1']!, this.maxEntries, classes);
    const t4 = performance.now();
    msmSet(heap, t.B2, w, p['piB2']!, p['tmp3']!, this.maxEntries, classes);
    const t5 = performance.now();
    msmSet(heap, t.C, wc, p['piC']!, p['tmp1']!, this.maxEntries);
    const t6 = performance.now();
    const hs = signedScalars(heap.u8.subarray(p['h']!, p['h']! + n * 32), n);
    bucketMsm(heap, t.H, hs, this.hIndex, t.H.c, p['resH']!, { maxEntries: this.maxEntries });
    const t7 = performance.now();

    const r = randomScalar();
    const s = randomScalar();
    const times = (fn: string, point: number, k: bigint, out: number) => {
      heap.write(p['scalar']!, bytesLE(k));
      ex[fn]!(point, p['scalar']!, 32, out);
    };
    // pi_a = A + alpha1 + r·delta1
    ex['g1m_addMixed']!(p['piA']!, p['alpha1']!, p['piA']!);
    times('g1m_timesScalarAffine', p['delta1']!, r, p['tmp1']!);
    ex['g1m_add']!(p['piA']!, p['tmp1']!, p['piA']!);
    // pi_b = B2 + beta2 + s·delta2
    ex['g2m_addMixed']!(p['piB2']!, p['beta2']!, p['piB2']!);
    times('g2m_timesScalarAffine', p['delta2']!, s, p['tmp3']!);
    ex['g2m_add']!(p['piB2']!, p['tmp3']!, p['piB2']!);
    // b1 = B1 + beta1 + s·delta1
    ex['g1m_addMixed']!(p['piB1']!, p['beta1']!, p['piB1']!);
    times('g1m_timesScalarAffine', p['delta1']!, s, p['tmp1']!);
    ex['g1m_add']!(p['piB1']!, p['tmp1']!, p['piB1']!);
    // pi_c = C + H + s·pi_a + r·b1 − r·s·delta1
    ex['g1m_add']!(p['piC']!, p['resH']!, p['piC']!);
    times('g1m_timesScalar', p['piA']!, s, p['tmp1']!);
    ex['g1m_add']!(p['piC']!, p['tmp1']!, p['piC']!);
    times('g1m_timesScalar', p['piB1']!, r, p['tmp1']!);
    ex['g1m_add']!(p['piC']!, p['tmp1']!, p['piC']!);
    times(
      'g1m_timesScalarAffine',
      p['delta1']!,
      (FIELD_MODULUS - ((r * s) % FIELD_MODULUS)) % FIELD_MODULUS,
      p['tmp1']!,
    );
    ex['g1m_add']!(p['piC']!, p['tmp1']!, p['piC']!);

    const g1 = (ptr: number): [string, string, string] => {
      ex['g1m_toAffine']!(ptr, p['aff1']!);
      ex['g1m_fromMontgomeryAffine']!(p['aff1']!, p['aff1']!);
      const b = heap.read(p['aff1']!, 64);
      return [readLE(b.subarray(0, 32)).toString(), readLE(b.subarray(32, 64)).toString(), '1'];
    };
    const g2 = (ptr: number): Groth16Proof['pi_b'] => {
      ex['g2m_toAffine']!(ptr, p['aff2']!);
      ex['g2m_fromMontgomeryAffine']!(p['aff2']!, p['aff2']!);
      const b = heap.read(p['aff2']!, 128);
      const f = (o: number) => readLE(b.subarray(o, o + 32)).toString();
      return [
        [f(0), f(32)],
        [f(64), f(96)],
        ['1', '0'],
      ];
    };
    const proof: Groth16Proof = {
      pi_a: g1(p['piA']!),
      pi_b: g2(p['piB2']!),
      pi_c: g1(p['piC']!),
      protocol: 'groth16',
      curve: 'bn128',
    };
    const publicSignals: string[] = [];
    for (let i = 1; i <= key.nPublic; i++)
      publicSignals.push(readLE(witness.subarray(i * 32, i * 32 + 32)).toString());
    const t8 = performance.now();
    return {
      proof,
      publicSignals,
      phases: {
        abcMs: t1 - t0,
        fftMs: t2 - t1,
        learnMs: t2b - t2,
        msmAMs: t3 - t2b,
        msmB1Ms: t4 - t3,
        msmB2Ms: t5 - t4,
        msmCMs: t6 - t5,
        msmHMs: t7 - t6,
        finishMs: t8 - t7,
      },
    };
  }
}
