import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/helpers/fixtures.ts';
import { SubnetState } from '../subnetState.ts';
import { dense, weightedMedianCol } from './sparse.ts';

// subtensor's own test vectors (pallets/subtensor/src/tests/epoch.rs and tests/math.rs), with their tolerances.
const fx = JSON.parse(readFileSync(`${ROOT}/test/fixtures/yuma-consensus.json`, 'utf8')) as {
  tolerances: { u16: number; rao: number; decimal: number };
  scenarios: {
    name: string;
    setup?: Record<string, unknown>;
    steps?: { expect?: Record<string, unknown> }[];
    cases?: Record<string, unknown>[];
  }[];
};
const tol = fx.tolerances;
const scenario = (prefix: string) => fx.scenarios.find((s) => s.name.startsWith(prefix))!;
const expectClose = (got: readonly number[], want: readonly number[], within: number, what: string) => {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, i) =>
    expect(Math.abs(g - want[i]!), `${what}[${i}]: got ${g}, want ${want[i]}`).toBeLessThanOrEqual(within),
  );
};
const bondsColumn = (s: SubnetState, col: number, rows: number[]) =>
  rows.map((i) => dense(s.bonds[i] ?? [], s.n)[col]!);
const EMISSION = 1_000_000_000;

describe('Yuma Consensus against subtensor test vectors', () => {
  it('mirrors tests/epoch.rs::test_bonds (Yuma 2, bonds penalty 1)', () => {
    const sc = scenario('test_bonds');
    const steps = sc.steps!.map((s) => s.expect ?? {});
    const s = new SubnetState(8, {
      tempo: 1,
      maxAllowedValidators: 8,
      kappa: 32767,
      bondsPenalty: 65535,
      bondsMovingAverage: 900_000,
    });
    s.stake = [1, 2, 3, 4, 0, 0, 0, 0];
    s.epoch(EMISSION); // grants permits
    s.block = 1;
    for (const uid of [0, 1, 2, 3]) s.storeWeights(uid, [4, 5, 6, 7], [16383, 32767, 49149, 65535]);
    let out = s.epoch(EMISSION);
    expectClose(bondsColumn(s, 4, [0, 1, 2, 3]), steps[1]!['bonds_rows_0_3'] as number[], tol.u16, 'bonds');
    expectClose(out.emission, steps[1]!['emission_uids_0_7'] as number[], tol.rao, 'emission');
    const actions: ((st: SubnetState) => void)[] = [
      (st) => st.storeWeights(0, [0], [65535]),
      (st) => st.storeWeights(1, [1], [65535]),
      (st) => st.storeWeights(2, [2], [65535]),
      (st) => st.storeWeights(2, [7], [65535]),
      () => {},
      () => {},
    ];
    actions.forEach((act, k) => {
      const want = steps[k + 2]!;
      s.block += 1;
      act(s);
      out = s.epoch(EMISSION);
      expectClose(
        bondsColumn(s, want['bonds_column'] as number, [0, 1, 2, 3]),
        want['bonds_rows_0_3'] as number[],
        tol.u16,
        `step ${k + 2} bonds`,
      );
      if (want['dividends_uids_0_3'])
        expectClose(
          out.dividends.slice(0, 4),
          want['dividends_uids_0_3'] as number[],
          tol.decimal,
          'dividends',
        );
    });
  });

  it('mirrors tests/epoch.rs::test_active_stake (Yuma 2, activity cutoff)', () => {
    const steps = scenario('test_active_stake').steps!.map((st) => st.expect ?? {});
    const s = new SubnetState(4, {
      tempo: 1,
      maxAllowedValidators: 4,
      bondsMovingAverage: 900_000,
      activityCutoff: 5000,
    });
    s.stake = [1, 1, 1, 1];
    s.epoch(EMISSION);
    s.block = 1;
    for (const uid of [0, 1]) s.storeWeights(uid, [2, 3], [32767, 32767]);
    let out = s.epoch(EMISSION);
    expectClose(out.u16.dividends, steps[1]!['dividends_u16_uids_0_3'] as number[], tol.u16, 'dividends');
    expectClose(out.emission, steps[1]!['emission_uids_0_3'] as number[], tol.rao, 'emission');
    for (const i of [0, 1])
      expectClose(bondsColumn(s, 2, [i]).concat(bondsColumn(s, 3, [i])), [65535, 65535], tol.u16, 'bonds');
    s.block = 5002;
    s.storeWeights(0, [2, 3], [32767, 32767]);
    out = s.epoch(EMISSION);
    expectClose(
      out.u16.dividends.slice(0, 2),
      steps[2]!['dividends_u16_uids_0_1'] as number[],
      tol.u16,
      'dividends 5002',
    );
    expectClose(
      out.emission.slice(0, 2),
      steps[2]!['emission_uids_0_1'] as number[],
      tol.rao,
      'emission 5002',
    );
    expectClose(
      [...bondsColumn(s, 2, [1]), ...bondsColumn(s, 3, [1])],
      [53619, 53619].map(() => steps[2]!['bonds_row_1_columns_2_3'] as number),
      tol.u16,
      'bonds 5002',
    );
    s.storeWeights(1, [2, 3], [32767, 32767]);
    s.block = 5003;
    out = s.epoch(EMISSION);
    expectClose(
      out.u16.dividends.slice(0, 2),
      steps[3]!['dividends_u16_uids_0_1'] as number[],
      tol.u16,
      'dividends 5003',
    );
    expectClose(
      out.emission.slice(0, 2),
      steps[3]!['emission_uids_0_1'] as number[],
      tol.rao,
      'emission 5003',
    );
    expectClose(
      [...bondsColumn(s, 2, [1]), ...bondsColumn(s, 3, [1])],
      [0, 0].map(() => steps[3]!['bonds_row_1_columns_2_3'] as number),
      tol.u16,
      'bonds 5003',
    );
  });

  it('mirrors tests/math.rs weighted_median_col cases exactly', () => {
    for (const c of scenario('weighted_median_col').cases!) {
      const weights = (c['weights'] as number[][]).map((row) =>
        row.map((v, j) => [j, v] as const).filter(([, v]) => v !== 0),
      );
      const got = weightedMedianCol(c['stake'] as number[], weights, 3, c['majority'] as number);
      expectClose(got, c['expect'] as number[], 1e-12, `majority ${c['majority']}`);
    }
  });

  /** Yuma 3 harness: validators 0-2 weight miners 3-4 each epoch; the epoch runs one block after. */
  function runYuma3(prefix: string, hp: Record<string, unknown>, weightsAt: (epoch: number) => number[][]) {
    const sc = scenario(prefix);
    const setup = sc.setup as Record<string, unknown>;
    const s = new SubnetState(5, { tempo: 1, maxAllowedValidators: 3, yuma3: true, ...hp });
    s.stake = setup['stake'] as number[];
    s.epoch(EMISSION);
    const dividends: number[][] = [];
    for (let e = 0; e < 6; e++) {
      s.block += 1;
      weightsAt(e).forEach((w, v) => s.storeWeights(v, [3, 4], w));
      s.block += 1;
      dividends.push(s.epoch(EMISSION).dividends.slice(0, 3));
    }
    return { s, dividends, expect: sc.steps![0]!.expect! };
  }

  it('mirrors tests/epoch.rs::test_yuma_3_liquid_alpha_disabled', () => {
    const M = 65535;
    const { dividends, expect: want } = runYuma3(
      'test_yuma_3_liquid_alpha_disabled',
      { kappa: 32767, bondsPenalty: 0, bondsMovingAverage: 975_000, liquidAlpha: false },
      (e) => [0, 1, 2].map((v) => (e === 2 && v === 2 ? [0, M] : [M, 0])),
    );
    (want['dividends_A_B_C_per_epoch'] as number[][]).forEach((d, e) =>
      expectClose(dividends[e]!, d, tol.decimal, `epoch ${e}`),
    );
  });

  it('mirrors tests/epoch.rs::test_yuma_3_kappa_moves_first (liquid alpha)', () => {
    const M = 65535;
    const plan = (e: number) =>
      e === 0
        ? [
            [M, 0],
            [M, 0],
            [M, 0],
          ]
        : e === 1
          ? [
              [0, M],
              [M, 0],
              [M, 0],
            ]
          : e === 2
            ? [
                [0, M],
                [0, M],
                [M, 0],
              ]
            : [
                [0, M],
                [0, M],
                [0, M],
              ];
    const {
      s,
      dividends,
      expect: want,
    } = runYuma3(
      'test_yuma_3_kappa_moves_first',
      {
        kappa: 32767,
        bondsPenalty: 0,
        bondsMovingAverage: 975_000,
        liquidAlpha: true,
        alphaLow: 6553,
        alphaHigh: 19660,
        alphaSigmoidSteepness: 1000,
      },
      plan,
    );
    (want['dividends_A_B_C_per_epoch'] as number[][]).forEach((d, e) =>
      expectClose(dividends[e]!, d, tol.decimal, `epoch ${e}`),
    );
    const bonds = [0, 1, 2].map((v) => [3, 4].map((j) => dense(s.bonds[v] ?? [], 5)[j]! / 65535));
    (want['bonds_at_epoch_5_rows_A_B_C_columns_3_4'] as number[][]).forEach((row, v) =>
      expectClose(bonds[v]!, row, tol.decimal, `bonds ${v}`),
    );
  });
});
