import type { Codec } from '@polkadot/types/types';
import { DEFAULT_HYPERPARAMETERS, type Hyperparameters } from '../subnetState.ts';

export interface ChainHyperparameters extends Hyperparameters {
  readonly weightsVersionKey: number;
  readonly weightsRateLimit: number;
  readonly minAllowedWeights: number;
  readonly maxWeightLimit: number;
  readonly immunityPeriod: number;
  /** When set, the subnet only takes committed (drand-timelocked) weights: plain set_weights is refused. */
  readonly commitRevealWeightsEnabled: boolean;
}

/**
 * A subnet's hyperparameters from the runtime's SubnetHyperparams struct. Fields a runtime version
 * does not have (Yuma 3, bonds penalty, sigmoid steepness in older ones) keep subtensor's defaults.
 */
export function hyperparametersFrom(h: Codec): ChainHyperparameters {
  const get = (name: string) => (h as Codec & { get(n: string): Codec | undefined }).get(name);
  const num = (name: string, fallback: number) => {
    const v = get(name) as (Codec & { toNumber(): number }) | undefined;
    return v === undefined ? fallback : v.toNumber();
  };
  const bool = (name: string, fallback: boolean) => {
    const v = get(name) as (Codec & { isTrue: boolean }) | undefined;
    return v === undefined ? fallback : v.isTrue;
  };
  const d = DEFAULT_HYPERPARAMETERS;
  return {
    tempo: num('tempo', d.tempo),
    activityCutoff: num('activityCutoff', d.activityCutoff),
    maxAllowedValidators: num('maxValidators', d.maxAllowedValidators),
    kappa: num('kappa', d.kappa),
    bondsPenalty: num('bondsPenalty', d.bondsPenalty),
    bondsMovingAverage: num('bondsMovingAvg', d.bondsMovingAverage),
    yuma3: bool('yuma3Enabled', d.yuma3),
    liquidAlpha: bool('liquidAlphaEnabled', d.liquidAlpha),
    alphaLow: num('alphaLow', d.alphaLow),
    alphaHigh: num('alphaHigh', d.alphaHigh),
    alphaSigmoidSteepness: num('alphaSigmoidSteepness', d.alphaSigmoidSteepness),
    stakeThreshold: d.stakeThreshold,
    ownerUid: null,
    weightsVersionKey: num('weightsVersion', 0),
    weightsRateLimit: num('weightsRateLimit', 0),
    minAllowedWeights: num('minAllowedWeights', 0),
    maxWeightLimit: num('maxWeightsLimit', 65535),
    immunityPeriod: num('immunityPeriod', 0),
    commitRevealWeightsEnabled: bool('commitRevealWeightsEnabled', false),
  };
}
