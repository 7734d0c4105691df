import {
  colClip,
  colMaxUpscale,
  colNormalize,
  dense,
  interpolate,
  isTopkNonzero,
  maskDiag,
  maskRows,
  matEma,
  matEmaAlpha,
  matmul,
  matmulTranspose,
  matVecMul,
  normalize,
  rowHadamard,
  rowNormalize,
  rowSum,
  type Sparse,
  scalarVecMask,
  sum,
  vecMask,
  weightedMedianCol,
} from './sparse.ts';

const U16_MAX = 65535;

/** Chain state and hyperparameters an epoch reads (u16 values as stored on chain). */
export interface EpochInput {
  readonly n: number;
  readonly currentBlock: number;
  readonly tempo: number;
  readonly activityCutoff: number;
  readonly lastUpdate: readonly number[];
  readonly blockAtRegistration: readonly number[];
  /** Raw stake per uid (any unit); stake below `stakeThreshold` counts as none. */
  readonly stake: readonly number[];
  readonly stakeThreshold: number;
  /** Permits from the previous epoch: they decide whose weights count now. */
  readonly validatorPermits: readonly boolean[];
  readonly maxAllowedValidators: number;
  readonly ownerUid: number | null;
  /** Stored weights: row-max-upscaled u16 per (uid_i → uid_j). */
  readonly weights: Sparse;
  /** Stored bonds, u16. */
  readonly bonds: Sparse;
  readonly kappa: number;
  readonly bondsPenalty: number;
  /** Millionths (900_000 = 0.9). */
  readonly bondsMovingAverage: number;
  readonly yuma3: boolean;
  readonly liquidAlpha: boolean;
  readonly alphaLow: number;
  readonly alphaHigh: number;
  readonly alphaSigmoidSteepness: number;
  readonly raoEmission: number;
}

/** Everything an epoch computes, as floats (for explanations) and as the chain stores it. */
export interface EpochOutput {
  readonly active: boolean[];
  readonly stake: number[];
  readonly activeStake: number[];
  readonly validatorPermits: boolean[];
  readonly weights: Sparse;
  readonly consensus: number[];
  readonly clippedWeights: Sparse;
  readonly validatorTrust: number[];
  readonly ranks: number[];
  readonly trust: number[];
  readonly incentive: number[];
  readonly dividends: number[];
  readonly emaBonds: Sparse;
  /** rao, truncated as on chain. */
  readonly serverEmission: number[];
  readonly validatorEmission: number[];
  readonly emission: number[];
  /** Bonds to store (u16), with the chain's rule for rows of validators that lost or never had a permit. */
  readonly newBonds: Sparse;
  readonly u16: {
    readonly incentive: number[];
    readonly dividends: number[];
    readonly consensus: number[];
    readonly trust: number[];
    readonly validatorTrust: number[];
    readonly ranks: number[];
  };
}

/** u16 of a proportion, truncated like fixed_proportion_to_u16 (a hair of slack absorbs float error). */
export function proportionToU16(x: number): number {
  return Math.min(U16_MAX, Math.max(0, Math.floor(x * U16_MAX + 1e-9)));
}

/** Yuma Consensus for one subnet epoch (subtensor's sparse epoch, float64). Pure. */
export function runEpoch(input: EpochInput): EpochOutput {
  const { n } = input;
  // == Active & stake ==
  const inactive = input.lastUpdate.map((u) => u + input.activityCutoff < input.currentBlock);
  const active = inactive.map((b) => !b);
  const stake = normalize(input.stake.map((s) => (s < input.stakeThreshold ? 0 : s)));
  const forbids = input.validatorPermits.map((p) => !p);
  const newPermits = isTopkNonzero(stake, input.maxAllowedValidators);
  const activeStake = normalize(stake.map((s, i) => (inactive[i] || forbids[i] ? 0 : s)));

  // == Weights: permits, diagonal (except the owner), outdated, row-normalised ==
  let weights = maskRows(forbids, input.weights);
  weights = maskDiag(weights, input.ownerUid);
  weights = vecMask(
    weights,
    input.lastUpdate,
    input.blockAtRegistration,
    (updated, registered) => updated <= registered,
  );
  weights = rowNormalize(weights);

  // == Consensus, clipping, trust, incentive ==
  const preranks = matmul(weights, activeStake, n);
  const kappa = input.kappa / U16_MAX;
  const consensus = weightedMedianCol(activeStake, weights, n, kappa);
  const clippedWeights = colClip(weights, consensus);
  const validatorTrust = rowSum(clippedWeights);
  const rawRanks = matmul(clippedWeights, activeStake, n);
  const trust = rawRanks.map((r, i) => (preranks[i] ? r / preranks[i]! : 0));
  const ranks = normalize(rawRanks);
  const incentive = ranks;

  // == Bonds and dividends ==
  const penalty = input.bondsPenalty / U16_MAX;
  const weightsForBonds = interpolate(weights, clippedWeights, n, penalty);
  const lastTempo = Math.max(0, input.currentBlock - input.tempo);
  const recentlyRegistered = (lt: number, registered: number) => lt <= registered;
  let dividends: number[];
  let emaBonds: Sparse;
  if (input.yuma3) {
    const bonds = scalarVecMask(
      input.bonds.map((row) => row.map(([j, v]) => [j, v / U16_MAX] as const)),
      lastTempo,
      input.blockAtRegistration,
      recentlyRegistered,
    );
    emaBonds = computeBondsYuma3(input, weightsForBonds, bonds, consensus);
    const norm = colNormalize(emaBonds, n);
    const perValidator = rowSum(matVecMul(norm, incentive));
    dividends = normalize(perValidator.map((b, i) => b * (activeStake[i] ?? 0)));
  } else {
    let bonds = scalarVecMask(input.bonds, lastTempo, input.blockAtRegistration, recentlyRegistered);
    bonds = colNormalize(bonds, n);
    const delta = colNormalize(rowHadamard(weightsForBonds, activeStake), n);
    const alpha = 1 - input.bondsMovingAverage / 1_000_000;
    emaBonds = colNormalize(matEma(delta, bonds, alpha), n);
    dividends = normalize(matmulTranspose(emaBonds, incentive));
    emaBonds = colMaxUpscale(emaBonds, n);
  }

  // == Emission ==
  const combined = incentive.map((x, i) => x + (dividends[i] ?? 0));
  const emissionSum = sum(combined);
  let serverNorm = emissionSum === 0 ? [...incentive] : incentive.map((x) => x / emissionSum);
  let validatorNorm = emissionSum === 0 ? [...dividends] : dividends.map((x) => x / emissionSum);
  let combinedNorm = normalize(combined);
  if (emissionSum === 0) {
    const fallback = sum(activeStake) === 0 ? stake : activeStake;
    validatorNorm = [...fallback];
    combinedNorm = [...fallback];
    serverNorm = [...serverNorm];
  }
  const rao = (x: number) => Math.max(0, Math.floor(x * input.raoEmission + 1e-6));
  const newBonds: Sparse = Array.from({ length: n }, (_, i) => {
    if (newPermits[i]) return (emaBonds[i] ?? []).map(([j, v]) => [j, proportionToU16(v)] as const);
    if (input.validatorPermits[i]) return [];
    return input.bonds[i] ?? [];
  });
  const u16 = (v: readonly number[]) => v.map(proportionToU16);
  return {
    active,
    stake,
    activeStake,
    validatorPermits: newPermits,
    weights,
    consensus,
    clippedWeights,
    validatorTrust,
    ranks,
    trust,
    incentive,
    dividends,
    emaBonds,
    serverEmission: serverNorm.map(rao),
    validatorEmission: validatorNorm.map(rao),
    emission: combinedNorm.map(rao),
    newBonds,
    u16: {
      incentive: u16(incentive),
      dividends: u16(dividends),
      consensus: u16(consensus),
      trust: u16(trust),
      validatorTrust: u16(validatorTrust),
      ranks: u16(ranks),
    },
  };
}

/** Yuma 3 bond EMA: liquid alpha per cell when enabled and consensus is non-zero, else a fixed alpha. */
function computeBondsYuma3(
  input: EpochInput,
  w: Sparse,
  bonds: Sparse,
  consensus: readonly number[],
): Sparse {
  const n = input.n;
  if (input.liquidAlpha && consensus.some((c) => c !== 0)) {
    const lo = input.alphaLow / U16_MAX;
    const hi = input.alphaHigh / U16_MAX;
    const alphas = w.map((row, i) => {
      const wd = dense(row, n);
      const bd = dense(bonds[i] ?? [], n);
      return consensus.map((c, j) => alphaSigmoid(c, wd[j]!, bd[j]!, lo, hi, input.alphaSigmoidSteepness));
    });
    return matEmaAlpha(w, bonds, alphas);
  }
  return matEma(w, bonds, 1 - input.bondsMovingAverage / 1_000_000);
}

/** subtensor's alpha_sigmoid: buying in above consensus or selling below the bond moves alpha up. */
export function alphaSigmoid(
  consensus: number,
  weight: number,
  bond: number,
  low: number,
  high: number,
  steepness: number,
): number {
  const clamp = (x: number, a: number, b: number) => Math.max(a, Math.min(b, x));
  const diffBuy = clamp(weight - consensus, 0, 1);
  const diffSell = clamp(bond - weight, 0, 1);
  const combined = weight >= bond ? diffBuy : diffSell;
  const sigmoid = 1 / (1 + Math.exp((steepness / -100) * (combined - 0.5)));
  return clamp(low + sigmoid * (high - low), low, high);
}
