import { type EpochInput, type EpochOutput, runEpoch } from './yuma/epoch.ts';
import type { Sparse } from './yuma/sparse.ts';

/** Subnet hyperparameters (subtensor's names; u16 values as on chain). */
export interface Hyperparameters {
  tempo: number;
  activityCutoff: number;
  maxAllowedValidators: number;
  kappa: number;
  bondsPenalty: number;
  bondsMovingAverage: number;
  yuma3: boolean;
  liquidAlpha: boolean;
  alphaLow: number;
  alphaHigh: number;
  alphaSigmoidSteepness: number;
  stakeThreshold: number;
  ownerUid: number | null;
}

export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  tempo: 360,
  activityCutoff: 5000,
  maxAllowedValidators: 64,
  kappa: 32767,
  bondsPenalty: 65535,
  bondsMovingAverage: 900_000,
  yuma3: false,
  liquidAlpha: false,
  alphaLow: 45875,
  alphaHigh: 58982,
  alphaSigmoidSteepness: 1000,
  stakeThreshold: 0,
  ownerUid: null,
});

/** Row max-upscale to u16, as set_weights stores weights (vec_u16_max_upscale_to_u16). */
export function maxUpscaleU16(values: readonly number[]): number[] {
  const max = Math.max(0, ...values);
  if (max === 0) return values.map(() => 0);
  return values.map((v) => Math.round((v * 65535) / max));
}

/**
 * A subnet's consensus state: the part of a subtensor that Yuma reads and writes. Pure state
 * transitions; the chain's admission checks (rate limits, permits, ...) live in LocalSubtensor.
 */
export class SubnetState {
  block = 0;
  readonly hp: Hyperparameters;
  stake: number[];
  lastUpdate: number[];
  blockAtRegistration: number[];
  permits: boolean[];
  weights: Sparse;
  bonds: Sparse;

  constructor(n: number, hp: Partial<Hyperparameters> = {}) {
    this.hp = { ...DEFAULT_HYPERPARAMETERS, ...hp };
    this.stake = new Array<number>(n).fill(0);
    this.lastUpdate = new Array<number>(n).fill(0);
    this.blockAtRegistration = new Array<number>(n).fill(0);
    this.permits = new Array<boolean>(n).fill(false);
    this.weights = Array.from({ length: n }, () => []);
    this.bonds = Array.from({ length: n }, () => []);
  }

  get n(): number {
    return this.stake.length;
  }

  /** Stores weights as the chain does (max-upscaled u16, sorted by uid) and marks the update block. */
  storeWeights(uid: number, uids: readonly number[], values: readonly number[]): void {
    const up = maxUpscaleU16(values);
    const row = uids.map((j, k) => [j, up[k]!] as const).sort((a, b) => a[0] - b[0]);
    this.weights = this.weights.map((r, i) => (i === uid ? row : r));
    this.lastUpdate[uid] = this.block;
  }

  epochInput(raoEmission: number): EpochInput {
    return {
      n: this.n,
      currentBlock: this.block,
      tempo: this.hp.tempo,
      activityCutoff: this.hp.activityCutoff,
      lastUpdate: this.lastUpdate,
      blockAtRegistration: this.blockAtRegistration,
      stake: this.stake,
      stakeThreshold: this.hp.stakeThreshold,
      validatorPermits: this.permits,
      maxAllowedValidators: this.hp.maxAllowedValidators,
      ownerUid: this.hp.ownerUid,
      weights: this.weights,
      bonds: this.bonds,
      kappa: this.hp.kappa,
      bondsPenalty: this.hp.bondsPenalty,
      bondsMovingAverage: this.hp.bondsMovingAverage,
      yuma3: this.hp.yuma3,
      liquidAlpha: this.hp.liquidAlpha,
      alphaLow: this.hp.alphaLow,
      alphaHigh: this.hp.alphaHigh,
      alphaSigmoidSteepness: this.hp.alphaSigmoidSteepness,
      raoEmission,
    };
  }

  /** Runs Yuma Consensus and stores permits and bonds, as the chain's epoch does. */
  epoch(raoEmission: number): EpochOutput {
    const out = runEpoch(this.epochInput(raoEmission));
    this.permits = out.validatorPermits;
    this.bonds = out.newBonds;
    return out;
  }
}
