import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectEverySinglePerturbationFails, f, WitnessTester } from '../../test/helpers/witnessTester.ts';

// Soundness of every template: the honest witness passes; each perturbed hint, quotient, remainder
// or comparison fails, including "consistent" attacks that keep the linear relations intact.
// Compiled with --O1 so that hint signals survive under their names.

const dir = (name: string) => join(tmpdir(), `zkinfer-templates-${process.pid}`, name);
const main = (body: string) => `pragma circom 2.1.0;\ninclude "zkinfer.circom";\n${body}\n`;
const bitsOf = (v: bigint, n: number) => Array.from({ length: n }, (_, i) => (v >> BigInt(i)) & 1n);
const floorDiv = (x: bigint, k: number) => x >> BigInt(k);

describe('Bits(n)', () => {
  let t: WitnessTester;
  beforeAll(async () => {
    t = await WitnessTester.compile(
      dir('bits'),
      main(
        'template T() { signal input x; signal output b[8]; component c = Bits(8); c.in <== x; b <== c.out; }\ncomponent main = T();',
      ),
    );
  });
  it('decomposes and range-checks', async () => {
    const w = await t.witness({ x: 200 });
    expect(t.check(w)).toBe(true);
    expect(t.matching(/^main\.b\[/).map((i) => w[i])).toEqual(bitsOf(200n, 8));
    expectEverySinglePerturbationFails(t, w, [t.index('main.x')]);
  });
  it('rejects a non-boolean "bit" that keeps the sum (b0 += 2, b1 -= 1)', async () => {
    const w = await t.witness({ x: 200 });
    const [b0, b1] = [t.index('main.b[0]'), t.index('main.b[1]')];
    expect(
      t.check(
        WitnessTester.tamper(w, [
          [b0, w[b0]! + 2n],
          [b1, w[b1]! - 1n],
        ]),
      ),
    ).toBe(false);
  });
  it('refuses a value that does not fit', async () => {
    await expect(t.witness({ x: 256 })).rejects.toThrow(/Assert Failed/);
  });
});

describe.each([
  ['Rescale', false],
  ['RescaleRelu', true],
] as const)('%s(6, 2)', (template, relu) => {
  let t: WitnessTester;
  beforeAll(async () => {
    t = await WitnessTester.compile(
      dir(template),
      main(
        `template T() { signal input x; signal output y; component r = ${template}(6, 2); r.in <== x; y <== r.out; }\ncomponent main = T();`,
      ),
    );
  });
  it('computes floor(x / 4) (then ReLU) for every x in [-64, 64)', async () => {
    for (let x = -64n; x < 64n; x++) {
      const w = await t.witness({ x: f(x) });
      expect(t.check(w)).toBe(true);
      const q = floorDiv(x, 2);
      expect(w[t.index('main.y')]).toBe(f(relu && q < 0n ? 0n : q));
    }
  });
  it('every perturbed quotient, remainder or sign bit fails', async () => {
    for (const x of [-37n, -1n, 0n, 5n, 63n]) {
      const w = await t.witness({ x: f(x) });
      expectEverySinglePerturbationFails(t, w, [t.index('main.x')]);
    }
  });
  it('rejects quotient + 1 with remainder − 4 (the linear relation still holds)', async () => {
    const w = await t.witness({ x: f(21n) });
    const [b0, b2] = [t.index('main.r.bits[0]'), t.index('main.r.bits[2]')];
    const y = t.index('main.y');
    const forged = WitnessTester.tamper(w, [
      [b2, w[b2]! + 1n],
      [b0, w[b0]! - 4n],
      [y, w[y]! + 1n],
    ]);
    expect(t.check(forged)).toBe(false);
  });
});

describe('RescaleUnsigned(6, 3)', () => {
  it('computes floor(x / 8) on [0, 64) and rejects perturbations', async () => {
    const t = await WitnessTester.compile(
      dir('RescaleUnsigned'),
      main(
        'template T() { signal input x; signal output y; component r = RescaleUnsigned(6, 3); r.in <== x; y <== r.out; }\ncomponent main = T();',
      ),
    );
    for (let x = 0n; x < 64n; x++) {
      const w = await t.witness({ x: f(x) });
      expect(t.check(w)).toBe(true);
      expect(w[t.index('main.y')]).toBe(x >> 3n);
    }
    expectEverySinglePerturbationFails(t, await t.witness({ x: 45 }), [t.index('main.x')]);
  });
});

describe('MaxHint(3, 5)', () => {
  let t: WitnessTester;
  beforeAll(async () => {
    t = await WitnessTester.compile(
      dir('max'),
      main(
        'template T() { signal input m[3]; signal output y; component c = MaxHint(3, 5); c.in <== m; y <== c.out; }\ncomponent main = T();',
      ),
    );
  });
  /** A witness claiming `claim` as the max, with every dependent signal recomputed to match. */
  function forge(w: bigint[], m: readonly bigint[], claim: bigint): bigint[] {
    const changes: [number, bigint][] = [[t.index('main.y'), claim]];
    let prod = 1n;
    m.forEach((v, i) => {
      const d = claim - v;
      prod = i === 0 ? d : prod * d;
      const p = t.signals.get(`main.c.prod[${i}]`);
      if (p !== undefined) changes.push([p, prod]);
      const bitsIdx = t.matching(new RegExp(`^main\\.c\\.Bits_\\d+_\\d+\\[${i}\\]\\.out\\[`));
      bitsOf(f(d), 5).forEach((b, j) => changes.push([bitsIdx[j]!, b]));
      for (const idx of t.matching(new RegExp(`^main\\.c\\.Bits_\\d+_\\d+\\[${i}\\]\\.in$`)))
        changes.push([idx, d]);
    });
    return WitnessTester.tamper(w, changes);
  }
  it('passes the true max and fails every perturbation', async () => {
    const w = await t.witness({ m: [3, 7, 5] });
    expect(t.check(w)).toBe(true);
    expect(w[t.index('main.y')]).toBe(7n);
    expectEverySinglePerturbationFails(t, w, t.matching(/^main\.m\[/));
  });
  it('rejects a smaller claim (a negative difference has no 5-bit decomposition)', async () => {
    const w = await t.witness({ m: [3, 7, 5] });
    expect(t.check(forge(w, [3n, 7n, 5n], 7n))).toBe(true); // the forger reproduces the honest witness
    expect(t.check(forge(w, [3n, 7n, 5n], 5n))).toBe(false);
  });
  it('rejects a larger claim (no element equals it, so the product is non-zero)', async () => {
    const w = await t.witness({ m: [3, 7, 5] });
    expect(t.check(forge(w, [3n, 7n, 5n], 8n))).toBe(false);
  });
  it('handles negative values', async () => {
    const w = await t.witness({ m: [f(-9), f(-2), f(-4)] });
    expect(t.check(w)).toBe(true);
    expect(w[t.index('main.y')]).toBe(f(-2));
  });
});

describe('ArgMaxHint(4, 5)', () => {
  let t: WitnessTester;
  beforeAll(async () => {
    t = await WitnessTester.compile(
      dir('argmax'),
      main(
        'template T() { signal input v[4]; signal output i; component c = ArgMaxHint(4, 5); c.in <== v; i <== c.out; }\ncomponent main = T();',
      ),
    );
  });
  /** A witness claiming index `claim`, with selectors, products and range checks recomputed. */
  function forge(w: bigint[], v: readonly bigint[], claim: number): bigint[] {
    const changes: [number, bigint][] = [[t.index('main.i'), BigInt(claim)]];
    const m = v[claim]!;
    v.forEach((x, i) => {
      changes.push([t.index(`main.c.sel[${i}]`), i === claim ? 1n : 0n]);
      changes.push([t.index(`main.c.picked[${i}]`), i === claim ? x : 0n]);
    });
    // range checks are created from the last index down: instance j checks index n-1-j
    const ins = t.matching(/^main\.c\.Bits_\d+_\d+\[\d+\]\.in$/);
    ins.forEach((idx, j) => {
      const i = v.length - 1 - j;
      const d = m - v[i]! - (claim > i ? 1n : 0n);
      changes.push([idx, d]);
      const bits = t.matching(new RegExp(`^main\\.c\\.Bits_\\d+_\\d+\\[${j}\\]\\.out\\[`));
      bitsOf(f(d), 5).forEach((b, k) => changes.push([bits[k]!, b]));
    });
    return WitnessTester.tamper(w, changes);
  }
  it('names the first maximum and fails every perturbation', async () => {
    const w = await t.witness({ v: [2, 9, 9, 1] });
    expect(t.check(w)).toBe(true);
    expect(w[t.index('main.i')]).toBe(1n);
    expectEverySinglePerturbationFails(t, w, t.matching(/^main\.v\[/));
    expect(t.check(forge(w, [2n, 9n, 9n, 1n], 1))).toBe(true);
  });
  it('rejects the later of two tied maxima and any non-maximum', async () => {
    const w = await t.witness({ v: [2, 9, 9, 1] });
    expect(t.check(forge(w, [2n, 9n, 9n, 1n], 2))).toBe(false);
    expect(t.check(forge(w, [2n, 9n, 9n, 1n], 0))).toBe(false);
    expect(t.check(forge(w, [2n, 9n, 9n, 1n], 3))).toBe(false);
  });
});

describe('PackInputs(2, 8, 0, 31)', () => {
  it('packs injectively: out-of-range values that pack to the same limb are rejected', async () => {
    const t = await WitnessTester.compile(
      dir('pack'),
      main(
        'template T() { signal input x[2]; signal output limb[1] <== PackInputs(2, 8, 0, 31)(x); }\ncomponent main = T();',
      ),
    );
    const w = await t.witness({ x: [0, 1] });
    expect(t.check(w)).toBe(true);
    expect(w[t.index('main.limb[0]')]).toBe(256n);
    // [256, 0] packs to the same limb 256 as [0, 1]: the 8-bit range check must refuse it
    const ins = t.matching(/Bits_\d+_\d+\[\d+\]\.in$/);
    const bits = (j: number) => t.matching(new RegExp(`Bits_\\d+_\\d+\\[${j}\\]\\.out\\[`));
    const changes: [number, bigint][] = [
      [t.index('main.x[0]'), 256n],
      [t.index('main.x[1]'), 0n],
      [ins[0]!, 256n],
      [ins[1]!, 0n],
      ...bitsOf(256n, 8).map((b, k): [number, bigint] => [bits(0)[k]!, b]),
      ...bitsOf(0n, 8).map((b, k): [number, bigint] => [bits(1)[k]!, b]),
    ];
    expect(t.check(WitnessTester.tamper(w, changes))).toBe(false);
    await expect(t.witness({ x: [256, 0] })).rejects.toThrow(/Assert Failed/);
  });
});
