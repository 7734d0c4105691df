import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectEverySinglePerturbationFails, f, WitnessTester } from '../../test/helpers/witnessTester.ts';
import { divCost, fnCost, rsqrtCost } from '../core/cost.ts';
import { FIELD_MODULUS } from '../core/field.ts';
import { evalFnTable, fitFnTable, fnSpec } from '../core/fnApprox.ts';
import { divValue, floorDiv, rsqrtValue, signedBits } from '../core/quantGraph.ts';

// Soundness of the non-linear templates: the honest witness passes and computes the reference
// value; every single perturbed signal fails; forgeries that keep the visible relations (another
// input's complete witness spliced in, a quotient moved by one with its remainder moved to match,
// a claimed window that the bits deny, a quotient that wraps around the field) fail; constraint
// counts at --O2 are the ones the compiler predicts.

const dir = (name: string) => join(tmpdir(), `zkinfer-nonlinear-${process.pid}`, name);
const main = (body: string) => `pragma circom 2.1.0;\ninclude "zkinfer.circom";\n${body}\n`;

/**
 * Recomputes the range-check components (Bits instances) inside `container` for forged values: each
 * instance is recognised by the value it decomposes in the honest witness, and gets the forged
 * value and its bits (a negative forged value keeps low bits that cannot sum to it, as any would).
 */
function rebits(t: WitnessTester, honest: readonly bigint[], container: string, forged: Map<bigint, bigint>) {
  const changes: [number, bigint][] = [];
  // instances by their bit signals (an instance's input may have been merged into another signal)
  const instances = new Map<string, [number, number][]>();
  for (const [n, i] of t.signals) {
    const m = new RegExp(`^(main\\.${container}_[0-9_]+\\.Bits_[0-9_]+)\\.out\\[(\\d+)\\]$`).exec(n);
    if (!m) continue;
    const list = instances.get(m[1]!) ?? [];
    list.push([Number(m[2]), i]);
    instances.set(m[1]!, list);
  }
  for (const [name, bits] of instances) {
    const value = bits.reduce((acc, [k, i]) => acc + (honest[i]! << BigInt(k)), 0n);
    const v = forged.get(value);
    if (v === undefined) continue;
    const fv = ((v % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;
    for (const [k, i] of bits) changes.push([i, (fv >> BigInt(k)) & 1n]);
    const inIdx = t.signals.get(`${name}.in`);
    if (inIdx !== undefined) changes.push([inIdx, fv]);
  }
  return changes;
}

describe('PiecewiseQuad (tanh table, input at scale 5, window [-4, 4) at scale 3)', () => {
  // a small table so that every input can be swept: M = 6 (64 steps), 16 segments of 4 steps
  const table = fitFnTable(fnSpec('tanh', 0), 3, 6);
  const k = 2;
  const offset = -table.w0 * 4n + 2n;
  const B = Math.max(signedBits(-512n + offset, 511n + offset), k + table.M);
  const arr = (v: readonly bigint[]) => `[${v.join(', ')}]`;
  const body = (bits: number) =>
    main(`template T() {
  signal input x;
  signal output y;
  var A[16] = ${arr(table.A)};
  var Bq[16] = ${arr(table.B)};
  var C[16] = ${arr(table.C)};
  y <== PiecewiseQuad(${bits}, ${k}, ${table.M}, ${table.s}, ${table.g}, ${table.bP}, A, Bq, C, ${table.yLo}, ${table.yHi})(x + ${offset});
}
component main = T();`);
  const expected = (x: bigint) => evalFnTable(table, (x + offset) >> BigInt(k));
  let t: WitnessTester;
  beforeAll(async () => {
    t = await WitnessTester.compile(dir('pq'), body(B));
  });

  it('computes the table for every input in [-512, 512), saturating on both sides', async () => {
    for (let x = -512n; x < 512n; x += 3n) {
      const w = await t.witness({ x: f(x) });
      expect(t.check(w)).toBe(true);
      expect(w[t.index('main.y')], `x = ${x}`).toBe(f(expected(x)));
    }
    expect(expected(-512n)).toBe(table.yLo);
    expect(expected(511n)).toBe(table.yHi);
  });

  it('fails every single perturbation: below, inside and above the window', async () => {
    for (const x of [-400n, -129n, -37n, 0n, 5n, 126n, 300n]) {
      expectEverySinglePerturbationFails(t, await t.witness({ x: f(x) }), [t.index('main.x')]);
    }
  });

  it("rejects another input's complete witness (a different segment, offset or side) under this input", async () => {
    for (const [x, other] of [
      [10n, 11n],
      [10n, 14n],
      [10n, 40n],
      [-200n, -100n],
      [300n, 100n],
      [100n, 300n],
    ] as const) {
      const forged = await t.witness({ x: f(other) });
      expect(t.check(forged)).toBe(true);
      forged[t.index('main.x')] = f(x);
      expect(t.check(forged), `witness of ${other} with input ${x}`).toBe(false);
    }
  });

  it('rejects claiming the window (and its polynomial) for an input above it', async () => {
    const w = await t.witness({ x: f(300n) });
    const c = B - k - table.M;
    const changes: [number, bigint][] = [];
    const inner = (name: string) => t.matching(new RegExp(`^main\\.PiecewiseQuad_[0-9_]+\\.${name}$`));
    // w[0] may be merged into bits[B] by the optimiser; every surviving w[i] claims "inside"
    for (let i = 0; i <= c; i++) for (const idx of inner(`w\\[${i}\\]`)) changes.push([idx, 1n]);
    expect(changes.length).toBeGreaterThanOrEqual(c);
    const pr = w[inner('pr')[0]!]!;
    changes.push([inner('picked')[0]!, pr], [t.index('main.y'), pr]);
    expect(w[t.index('main.y')]).toBe(f(table.yHi));
    expect(t.check(WitnessTester.tamper(w, changes))).toBe(false);
  });

  /**
   * A complete witness for input x computed the template's way, except for the overrides: every
   * signal downstream of an overridden one is recomputed to match, so only the relation that
   * defines the overridden signal is left broken.
   */
  function forge(
    x: bigint,
    over: { mono?: [number, bigint]; u1?: bigint; inside?: bigint; picked?: bigint } = {},
  ): bigint[] {
    const S = 1 << table.s;
    const o = table.M - table.s;
    const c = B - k - table.M;
    const D = x + offset;
    const bits = Array.from({ length: B + 1 }, (_, i) => ((D + (1n << BigInt(B))) >> BigInt(i)) & 1n);
    const w = [bits[B]!];
    for (let i = 0; i < c; i++) w.push(w[i]! * (1n - bits[k + table.M + i]!));
    if (over.inside !== undefined) w[c] = over.inside;
    const mono = Array.from({ length: S }, (_, m) => {
      let p = 1n;
      for (let i = 0; i < table.s; i++) if ((m >> i) & 1) p *= bits[k + o + i]!;
      return p;
    });
    if (over.mono) mono[over.mono[0]] = over.mono[1];
    // each coefficient as the template forms it: the Moebius weights of the table times the monomials
    const coef = (tab: readonly bigint[]) => {
      let sum = 0n;
      for (let m = 0; m < S; m++) {
        let wm = 0n;
        for (let j = 0; j < S; j++) {
          if ((j & m) !== j) continue;
          let parity = 0;
          for (let q = 0; q < table.s; q++) parity ^= ((m ^ j) >> q) & 1;
          wm += parity ? -tab[j]! : tab[j]!;
        }
        sum += wm * mono[m]!;
      }
      return sum;
    };
    let tt = 0n;
    for (let i = 0; i < o; i++) tt += bits[k + i]! << BigInt(i);
    const u1 = coef(table.C) * tt + (over.u1 ?? 0n);
    const u2 = (coef(table.B) + u1) * tt;
    const P = coef(table.A) + u2;
    const rbits = Array.from(
      { length: table.bP + 1 },
      (_, i) => ((P + (1n << BigInt(table.bP))) >> BigInt(i)) & 1n,
    );
    const pr = P >> BigInt(table.g);
    const picked = w[c]! * pr + (over.picked ?? 0n);
    const y = picked + (1n - bits[B]!) * table.yLo + (bits[B]! - w[c]!) * table.yHi;
    const values = new Map<RegExp, bigint>([
      [/^main\.y$/, y],
      [/^main\.x$/, x],
      [/\.PiecewiseQuad_[0-9_]+\.in$/, D],
      [/\.PiecewiseQuad_[0-9_]+\.Bits_[0-9_]+\.in$/, D + (1n << BigInt(B))],
      [/\.u1$/, u1],
      [/\.u2$/, u2],
      [/\.pr$/, pr],
      [/\.picked$/, picked],
      [/\.Rescale_[0-9_]+\.in$/, P],
      [/\.Rescale_[0-9_]+\.Bits_[0-9_]+\.in$/, P + (1n << BigInt(table.bP))],
    ]);
    const changes: [number, bigint][] = [];
    for (const [name, i] of t.signals) {
      if (i === 0) continue;
      let v: bigint | undefined;
      for (const [re, val] of values) if (re.test(name)) v = val;
      const idx = (prefix: RegExp) => Number(name.replace(prefix, '').replace(']', ''));
      if (/\.Rescale_[0-9_]+\.(bits|Bits_[0-9_]+\.out)\[\d+\]$/.test(name)) v = rbits[idx(/.*\[/)]!;
      else if (/\.PiecewiseQuad_[0-9_]+\.(bits|Bits_[0-9_]+\.out)\[\d+\]$/.test(name)) v = bits[idx(/.*\[/)]!;
      else if (/\.w\[\d+\]$/.test(name)) v = w[idx(/.*\[/)]!;
      else if (/\.mono\[\d+\]$/.test(name)) v = mono[idx(/.*\[/)]!;
      if (v === undefined) throw new Error(`forge: no value for ${name}`);
      changes.push([i, v]);
    }
    return WitnessTester.tamper(
      new Array<bigint>(t.signals.size + 1).fill(0n).map((_, i) => (i === 0 ? 1n : 0n)),
      changes,
    );
  }

  it('the forger reproduces the honest witness when it changes nothing', async () => {
    for (const x of [-400n, -37n, 0n, 126n, 300n]) {
      const honest = await t.witness({ x: f(x) });
      expect(forge(x)).toEqual(honest.slice(0, t.signals.size + 1));
    }
  });

  it('rejects consistent forgeries: a monomial of another segment, a shifted product, a flipped window test, a moved output', () => {
    for (const x of [-400n, -37n, 5n, 126n, 300n]) {
      for (let m = 3; m < 16; m++) {
        if ((m & (m - 1)) === 0) continue; // single bits are the decomposition itself
        const honest = forge(x);
        const idx = t.matching(new RegExp(`\\.mono\\[${m}\\]$`))[0]!;
        expect(t.check(forge(x, { mono: [m, 1n - honest[idx]!] })), `mono[${m}] at ${x}`).toBe(false);
      }
      for (const d of [1n, -1n]) {
        expect(t.check(forge(x, { u1: d })), `u1 ${d} at ${x}`).toBe(false);
        expect(t.check(forge(x, { picked: d })), `picked ${d} at ${x}`).toBe(false);
      }
      const inside = forge(x)[t.matching(/\.w\[\d+\]$/).at(-1)!]!;
      expect(t.check(forge(x, { inside: 1n - inside })), `window test at ${x}`).toBe(false);
    }
  });

  it('has the predicted number of constraints at --O2', async () => {
    const o2 = await WitnessTester.compile(dir('pq-o2'), body(B), 2);
    expect(o2.nConstraints).toBe(
      fnCost(
        B,
        k,
        table.M,
        table.s,
        table.bP,
        table.C.every((c) => c === table.C[0]),
      ),
    );
  });
});

describe('DivFloor(6, 5)', () => {
  let t: WitnessTester;
  const src = main(
    'template T() { signal input n; signal input d; signal output q <== DivFloor(6, 5)(n, d); }\ncomponent main = T();',
  );
  beforeAll(async () => {
    t = await WitnessTester.compile(dir('div'), src);
  });
  const inputs = () => [t.index('main.n'), t.index('main.d')];

  it('computes floor(n / d) for negative and positive n and every d in [1, 31]', async () => {
    for (let n = -60n; n <= 60n; n += 7n) {
      for (let d = 1n; d < 32n; d += 5n) {
        const w = await t.witness({ n: f(n), d: f(d) });
        expect(t.check(w)).toBe(true);
        expect(w[t.index('main.q')]).toBe(f(floorDiv(n, d)));
      }
    }
    expect(divValue(5n, 2n, 0)).toBe(3n); // the rounded form the compiler emits: 2.5 → 3
    expect(divValue(-5n, 2n, 0)).toBe(-2n);
  });

  it('fails every single perturbation', async () => {
    for (const [n, d] of [
      [37n, 5n],
      [-37n, 5n],
      [0n, 1n],
    ]) {
      expectEverySinglePerturbationFails(t, await t.witness({ n: f(n!), d: f(d!) }), inputs());
    }
  });

  /** The witness of (n, d) with quotient q, remainder n − q·d and every range check recomputed. */
  async function forge(n: bigint, d: bigint, q: bigint): Promise<bigint[]> {
    const w = await t.witness({ n: f(n), d: f(d) });
    const q0 = floorDiv(n, d);
    const r0 = n - q0 * d;
    const r = n - q * d;
    const changes: [number, bigint][] = [
      [t.index('main.q'), f(q)],
      [t.matching(/^main\.DivFloor_[0-9_]+\.r$/)[0]!, f(r)],
      ...rebits(
        t,
        w,
        'DivFloor',
        new Map([
          [r0, r],
          [d - 1n - r0, d - 1n - r],
          [q0 + 64n, q + 64n],
        ]),
      ),
    ];
    return WitnessTester.tamper(w, changes);
  }

  it('the forger reproduces the honest witness', async () => {
    expect(t.check(await forge(37n, 7n, 5n))).toBe(true);
  });

  it('rejects a quotient moved by one with the remainder moved to match', async () => {
    expect(t.check(await forge(37n, 7n, 4n))).toBe(false); // r = 9 ≥ d: the d − 1 − r check
    expect(t.check(await forge(37n, 7n, 6n))).toBe(false); // r = −5: the r ≥ 0 check
  });

  it('rejects a quotient that wraps around the field (a remainder in range, q = (n − r)/d mod p)', async () => {
    const inv7 = modPow(7n, FIELD_MODULUS - 2n, FIELD_MODULUS);
    const wrapped = ((37n - 3n) * inv7) % FIELD_MODULUS; // r = 3 is in [0, 7): only q's range check is left
    expect((wrapped * 7n + 3n) % FIELD_MODULUS).toBe(37n);
    const forged = await forge(37n, 7n, wrapped);
    forged[t.matching(/^main\.DivFloor_[0-9_]+\.r$/)[0]!] = 3n;
    for (const [i, v] of rebits(
      t,
      await t.witness({ n: 37, d: 7 }),
      'DivFloor',
      new Map([
        [2n, 3n],
        [4n, 3n],
      ]),
    ))
      forged[i] = v;
    expect(t.check(forged)).toBe(false);
  });

  it('has the predicted number of constraints at --O2', async () => {
    expect((await WitnessTester.compile(dir('div-o2'), src, 2)).nConstraints).toBe(divCost(6, 5));
  });
});

describe('RsqrtFloor(6, 8, 7)', () => {
  let t: WitnessTester;
  const src = main(
    'template T() { signal input v; signal output y <== RsqrtFloor(6, 8, 7)(v); }\ncomponent main = T();',
  );
  beforeAll(async () => {
    t = await WitnessTester.compile(dir('rsqrt'), src);
  });

  it('computes floor(64 / sqrt(v)) for every v in [1, 256)', async () => {
    for (let v = 1n; v < 256n; v++) {
      const w = await t.witness({ v: f(v) });
      expect(t.check(w)).toBe(true);
      expect(w[t.index('main.y')]).toBe(rsqrtValue(v, 6));
      expect(Number(rsqrtValue(v, 6))).toBe(Math.floor(64 / Math.sqrt(Number(v))));
    }
  });

  it('fails every single perturbation', async () => {
    for (const v of [1n, 17n, 255n]) {
      expectEverySinglePerturbationFails(t, await t.witness({ v: f(v) }), [t.index('main.v')]);
    }
  });

  it('rejects y ± 1 with its square, both products and every range check recomputed', async () => {
    const K2 = 1n << 12n;
    for (const v of [3n, 50n, 200n]) {
      const w = await t.witness({ v: f(v) });
      const y0 = w[t.index('main.y')]!;
      const side = (y: bigint) => [y, K2 - y * y * v, (y + 1n) * (y + 1n) * v - K2 - 1n] as const;
      const honest = side(y0);
      expect(t.check(w)).toBe(true);
      for (const y of [y0, y0 + 1n, y0 - 1n]) {
        const forgedSides = side(y);
        const y2 = y * y;
        const forged = WitnessTester.tamper(w, [
          [t.index('main.y'), y],
          [t.matching(/^main\.RsqrtFloor_[0-9_]+\.y2$/)[0]!, y2],
          [t.matching(/^main\.RsqrtFloor_[0-9_]+\.under$/)[0]!, y2 * v],
          [t.matching(/^main\.RsqrtFloor_[0-9_]+\.over$/)[0]!, (y2 + 2n * y + 1n) * v],
          ...rebits(t, w, 'RsqrtFloor', new Map(honest.map((h, i) => [h, forgedSides[i]!]))),
        ]);
        // y + 1 breaks y²·v ≤ 2^12 only; y − 1 breaks 2^12 < (y + 1)²·v only
        expect(t.check(forged), `v = ${v}, y = ${y}`).toBe(y === y0);
      }
    }
  });

  it('has the predicted number of constraints at --O2', async () => {
    expect((await WitnessTester.compile(dir('rsqrt-o2'), src, 2)).nConstraints).toBe(rsqrtCost(8, 7));
  });
});

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = b % m;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
  }
  return r;
}
