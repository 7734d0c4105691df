import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { expect } from 'vitest';
import { runCircom } from '../../circuits/circom.ts';
import { FIELD_MODULUS, toField } from '../../circuits/core/field.ts';
import { loadWitnessCalculator, type WitnessCalculator } from '../../prover/witnessCalculator.ts';

type Lc = Map<number, bigint>;
const P = FIELD_MODULUS;

/**
 * A circuit under test (after circomkit's testers): compile once, compute witnesses, check a
 * (possibly tampered) witness against every constraint, and address signals by name.
 */
export class WitnessTester {
  private constructor(
    private readonly constraints: readonly [Lc, Lc, Lc][],
    private readonly calculator: WitnessCalculator,
    /** signal name → witness index (only signals that survive optimisation) */
    readonly signals: ReadonlyMap<string, number>,
    readonly nConstraints: number,
  ) {}

  /** Compiles `main` (a circom source that includes "zkinfer.circom") in `dir`. */
  static async compile(dir: string, main: string, optimize: 0 | 1 | 2 = 1): Promise<WitnessTester> {
    await mkdir(dir, { recursive: true });
    await copyFile(
      new URL('../../circuits/templates/zkinfer.circom', import.meta.url),
      join(dir, 'zkinfer.circom'),
    );
    await writeFile(join(dir, 'main.circom'), main);
    await runCircom({ cwd: dir, file: 'main.circom', outDir: '.', optimize });
    const r1cs = (await snarkjs.r1cs.exportJson(join(dir, 'main.r1cs'))) as {
      constraints: Record<string, string>[][];
    };
    const toLc = (o: Record<string, string>): Lc =>
      new Map(Object.entries(o).map(([k, v]) => [Number(k), BigInt(v)]));
    const constraints = r1cs.constraints.map((c) => [toLc(c[0]!), toLc(c[1]!), toLc(c[2]!)] as [Lc, Lc, Lc]);
    const signals = new Map<string, number>();
    for (const line of (await readFile(join(dir, 'main.sym'), 'utf8')).split('\n')) {
      const [, wire, , name] = line.split(',');
      if (name && Number(wire) >= 0) signals.set(name, Number(wire));
    }
    const calculator = await loadWitnessCalculator(join(dir, 'main_js', 'main.wasm'));
    return new WitnessTester(constraints, calculator, signals, constraints.length);
  }

  /** Computes the honest witness (circom checks its own asserts while computing). */
  async witness(input: Record<string, unknown>): Promise<bigint[]> {
    return this.calculator.calculateWitness(input, true);
  }

  /** True when every constraint A·w × B·w = C·w holds. */
  check(w: readonly bigint[]): boolean {
    const dot = (lc: Lc) => {
      let s = 0n;
      for (const [i, c] of lc) s += c * (w[i] ?? 0n);
      return s % P;
    };
    return this.constraints.every(([a, b, c]) => (dot(a) * dot(b) - dot(c)) % P === 0n);
  }

  /** Witness index of a signal; throws when optimisation removed it. */
  index(name: string): number {
    const i = this.signals.get(name);
    if (i === undefined)
      throw new Error(
        `signal ${name} is not in the witness (names: ${[...this.signals.keys()].slice(0, 12).join(', ')}…)`,
      );
    return i;
  }

  /** Indices of signals whose names match. */
  matching(pattern: RegExp): number[] {
    return [...this.signals.entries()].filter(([n]) => pattern.test(n)).map(([, i]) => i);
  }

  /** A copy of `w` with signal indices set to field values. */
  static tamper(w: readonly bigint[], changes: readonly [number, bigint][]): bigint[] {
    const out = [...w];
    for (const [i, v] of changes) out[i] = toField(v);
    return out;
  }
}

/** Field value of a signed integer. */
export function f(v: bigint | number): bigint {
  return toField(BigInt(v));
}

/** Every non-input signal perturbed by +1, one at a time, must break some constraint. */
export function expectEverySinglePerturbationFails(
  t: WitnessTester,
  w: readonly bigint[],
  inputs: readonly number[],
): void {
  for (const [name, i] of t.signals) {
    if (i === 0 || inputs.includes(i)) continue;
    const bad = WitnessTester.tamper(w, [[i, w[i]! + 1n]]);
    expect(t.check(bad), `perturbing ${name} must fail`).toBe(false);
  }
}
