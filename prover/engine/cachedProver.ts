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

/** The QAP polynomials and the witness sums of a proof: the units a proof is shared in. */
export type Poly = 'a' | 'b' | 'c';
export type Msm = 'A' | 'B1' | 'B2' | 'C';
export const POLYS: readonly Poly[] = ['a', 'b', 'c'];
export const MSMS: readonly Msm[] = ['A', 'B1', 'B2', 'C'];
/** Where each witness sum is kept in the heap. */
const SUM_AT: Record<Msm, string> = { A: 'piA', B1: 'piB1', B2: 'piB2', C: 'piC' };

/** Milliseconds a part of a shared proof spent on each piece: what the next one is planned by. */
export interface PartTimes {
  /** The A/B/C evaluations of the constraints (a part that transforms any polynomial). */
  readonly abcMs?: number;
  /** Each polynomial's three passes to the coset. */
  readonly polyMs: Partial<Record<Poly, number>>;
  readonly msmMs: Partial<Record<Msm, number>>;
  /** The H sum over a range: its milliseconds and how many points the range held. */
  readonly h?: { readonly ms: number; readonly points: number };
}

export interface FrontResult {
  readonly evals: Partial<Record<Poly, Uint8Array>>;
  readonly sums: Partial<Record<Msm, Uint8Array>>;
  readonly times: PartTimes;
}

/** A back part's answer: its H range's sum (a Jacobian G1 point) and any witness sums it took on. */
export interface BackResult {
  readonly h: Uint8Array;
  readonly sums: Partial<Record<Msm, Uint8Array>>;
  readonly times: PartTimes;
}

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
    const n = this.key.domainSize;
    const t0 = performance.now();
    this.loadWitness(witness);
    const t1 = performance.now();
    this.toCoset(POLYS);
    this.joinH(0, n);
    const t2 = performance.now();
    const phases = this.pointSums(MSMS, witness);
    const t6 = performance.now();
    this.hSum(0, n);
    const t7 = performance.now();
    const proof = this.finish();
    const t8 = performance.now();
    return {
      proof,
      publicSignals: this.publicSignals(witness),
      phases: {
        abcMs: t1 - t0,
        fftMs: t2 - t1,
        learnMs: phases.learnMs,
        msmAMs: phases.A,
        msmB1Ms: phases.B1,
        msmB2Ms: phases.B2,
        msmCMs: phases.C,
        msmHMs: t7 - t6,
        finishMs: t8 - t7,
      },
    };
  }

  /**
   * The first part of a proof shared among workers (cooperative.ts): the coset evaluations of the
   * chosen QAP polynomials (Montgomery form, n × 32 bytes each) and the chosen witness sums
   * (Jacobian points). Deterministic: no randomness enters before `finishParts`.
   */
  frontPart(witness: Uint8Array, polys: readonly Poly[], msms: readonly Msm[]): FrontResult {
    const { heap, p } = this;
    const n = this.key.domainSize;
    const polyMs: Partial<Record<Poly, number>> = {};
    let abcMs: number | undefined;
    if (polys.length > 0) {
      const t0 = performance.now();
      this.loadWitness(witness);
      abcMs = performance.now() - t0;
      for (const x of polys) {
        const t = performance.now();
        this.toCoset([x]);
        polyMs[x] = performance.now() - t;
      }
    }
    const evals: Partial<Record<Poly, Uint8Array>> = {};
    for (const x of polys) evals[x] = heap.read(p[x]!, n * 32);
    const { sums, msmMs } = this.sumsOf(msms, witness);
    return { evals, sums, times: { ...(abcMs === undefined ? {} : { abcMs }), polyMs, msmMs } };
  }

  /**
   * The second part: Σ h_j·H_j over j in [from, to), from the three coset evaluations of that range
   * (the h_j are pointwise: a_j·b_j − c_j), and any witness sums the plan left for this phase.
   */
  hPart(
    from: number,
    to: number,
    evals: { readonly a: Uint8Array; readonly b: Uint8Array; readonly c: Uint8Array },
    msms: readonly Msm[] = [],
    witness?: Uint8Array,
  ): BackResult {
    const { heap, p } = this;
    const n = this.key.domainSize;
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= n))
      throw new RangeError(`an H range must lie in [0, ${n}], got [${from}, ${to})`);
    if (msms.length > 0 && !witness) throw new RangeError('witness sums need the witness');
    for (const x of POLYS) {
      const v = evals[x];
      if (v.length !== (to - from) * 32)
        throw new RangeError(`${x}: ${v.length} bytes for ${to - from} values`);
      heap.write(p[x]! + from * 32, v);
    }
    const t0 = performance.now();
    this.joinH(from, to);
    this.hSum(from, to);
    const h = { ms: performance.now() - t0, points: to - from };
    const hPoint = heap.read(p['resH']!, G1.jacobian);
    const { sums, msmMs } = this.sumsOf(msms, witness ?? new Uint8Array(0));
    return { h: hPoint, sums, times: { polyMs: {}, msmMs, h } };
  }

  /** The chosen witness sums, read out of the heap, with each one's milliseconds. */
  private sumsOf(
    msms: readonly Msm[],
    witness: Uint8Array,
  ): { sums: Partial<Record<Msm, Uint8Array>>; msmMs: Partial<Record<Msm, number>> } {
    const sums: Partial<Record<Msm, Uint8Array>> = {};
    const msmMs: Partial<Record<Msm, number>> = {};
    if (msms.length === 0) return { sums, msmMs };
    const ms = this.pointSums(msms, witness);
    for (const m of msms) {
      sums[m] = this.heap.read(this.p[SUM_AT[m]]!, m === 'B2' ? G2.jacobian : G1.jacobian);
      msmMs[m] = ms[m];
    }
    return { sums, msmMs };
  }

  /** The proof from every sum and the H parts (any number, any split), with fresh r and s. */
  finishParts(sums: Readonly<Record<Msm, Uint8Array>>, hParts: readonly Uint8Array[]): Groth16Proof {
    const { heap, p } = this;
    const ex = heap.exports;
    for (const m of MSMS) heap.write(p[SUM_AT[m]]!, sums[m]);
    ex['g1m_zero']!(p['resH']!);
    for (const h of hParts) {
      heap.write(p['tmp1']!, h);
      ex['g1m_add']!(p['resH']!, p['tmp1']!, p['resH']!);
    }
    return this.finish();
  }

  publicSignals(witness: Uint8Array): string[] {
    const out: string[] = [];
    for (let i = 1; i <= this.key.nPublic; i++)
      out.push(readLE(witness.subarray(i * 32, i * 32 + 32)).toString());
    return out;
  }

  /** Witness into the heap, and the A/B/C evaluations of the constraints on the domain. */
  private loadWitness(witness: Uint8Array): void {
    const { heap, key, p } = this;
    heap.write(p['w']!, witness);
    heap.exports['qap_buildABC']!(
      p['coefs']!,
      key.nCoefs,
      p['w']!,
      p['a']!,
      p['b']!,
      p['c']!,
      0,
      key.domainSize,
      0,
      key.nVars,
    );
  }

  /** Domain evaluations → evaluations on the odd coset, in place. */
  private toCoset(polys: readonly Poly[]): void {
    const { heap, key, p } = this;
    const ex = heap.exports;
    for (const x of polys.map((q) => p[q]!)) {
      ex['zk_frFft']!(x, key.power, p['twI']!); // n · coefficients
      ex['zk_frBatchMul']!(x, p['shift']!, key.domainSize, x); // coefficients of A(inc·X)
      ex['zk_frFft']!(x, key.power, p['twF']!); // A on the coset
    }
  }

  /** h_j = a_j·b_j − c_j for j in [from, to), in normal form (the H points absorb 1/Z). */
  private joinH(from: number, to: number): void {
    const { heap, p } = this;
    const ex = heap.exports;
    const at = (q: string) => p[q]! + from * 32;
    ex['qap_joinABC']!(at('a'), at('b'), at('c'), to - from, at('h'));
    ex['frm_batchFromMontgomery']!(at('h'), to - from, at('h'));
  }

  /** The chosen witness sums into piA, piB1, piB2, piC; milliseconds per sum. */
  private pointSums(msms: readonly Msm[], witness: Uint8Array): Record<Msm, number> & { learnMs: number } {
    const { heap, key, p } = this;
    const t = this.tables;
    const tl = performance.now();
    const w = signedScalars(witness, key.nVars);
    const wc = sliceScalars(w, key.nPublic + 1); // C covers the private signals only
    if (!this.learned) {
      this.learned = true;
      for (const set of [t.B2, t.A, t.B1]) this.budgetLeft -= learnHot(heap, set, w, this.budgetLeft); // G2 gains most
      this.budgetLeft -= learnHot(heap, t.C, wc, this.budgetLeft);
    }
    const classes = bitClasses(w);
    const ms: Record<Msm, number> & { learnMs: number } = {
      A: 0,
      B1: 0,
      B2: 0,
      C: 0,
      learnMs: performance.now() - tl,
    };
    for (const m of MSMS) {
      if (!msms.includes(m)) continue;
      const t0 = performance.now();
      if (m === 'C') msmSet(heap, t.C, wc, p['piC']!, p['tmp1']!, this.maxEntries);
      else msmSet(heap, t[m], w, p[SUM_AT[m]]!, p[m === 'B2' ? 'tmp3' : 'tmp1']!, this.maxEntries, classes);
      ms[m] = performance.now() - t0;
    }
    return ms;
  }

  /** Σ h_j·H_j over [from, to) into resH. */
  private hSum(from: number, to: number): void {
    const { heap, p } = this;
    const hs = signedScalars(heap.u8.subarray(p['h']! + from * 32, p['h']! + to * 32), to - from);
    const which = this.hIndex.subarray(0, to - from);
    const pos = from === 0 ? undefined : this.hIndex.subarray(from, to);
    bucketMsm(heap, this.tables.H, hs, which, this.tables.H.c, p['resH']!, {
      pos,
      maxEntries: this.maxEntries,
    });
  }

  /** pi_a, pi_b, pi_c from the sums in piA, piB1, piB2, piC and resH, with fresh r and s. */
  private finish(): Groth16Proof {
    const { heap, p } = this;
    const ex = heap.exports;
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
    return {
      pi_a: g1(p['piA']!),
      pi_b: g2(p['piB2']!),
      pi_c: g1(p['piC']!),
      protocol: 'groth16',
      curve: 'bn128',
    };
  }
}
