import { ZkinferError } from '../protocol/errors.ts';
import type { Hyperparameters } from './subnetState.ts';

/** One neuron as a metagraph shows it. */
export interface NeuronInfo {
  readonly uid: number;
  readonly hotkey: string;
  readonly stake: number;
  readonly validatorPermit: boolean;
  readonly incentive: number;
  readonly dividends: number;
  readonly consensus: number;
  readonly trust: number;
  readonly validatorTrust: number;
  /** rao of the last epoch. */
  readonly emission: number;
  /** rao received over all epochs. */
  readonly totalEmission: number;
  readonly lastUpdate: number;
  readonly registeredAt: number;
  readonly axon: { readonly url: string } | null;
}

export interface Metagraph {
  readonly block: number;
  readonly neurons: readonly NeuronInfo[];
}

/**
 * What miners and validators need from a subtensor. LocalSubtensor implements it here; a
 * @polkadot/api client for a real chain can implement it later without touching its users.
 */
export interface SubtensorClient {
  currentBlock(): Promise<number>;
  metagraph(): Promise<Metagraph>;
  hyperparameters(): Promise<
    Readonly<
      Hyperparameters & {
        weightsVersionKey: number;
        weightsRateLimit: number;
        minAllowedWeights: number;
        maxWeightLimit: number;
      }
    >
  >;
  /** Throws SubtensorError named after the chain's error when the extrinsic would fail. */
  setWeights(
    hotkey: string,
    uids: readonly number[],
    values: readonly number[],
    versionKey: number,
  ): Promise<void>;
  serveAxon(hotkey: string, url: string): Promise<void>;
}

/** A chain error, named as subtensor names it (e.g. SettingWeightsTooFast). */
export class SubtensorError extends ZkinferError {
  override name = 'SubtensorError';
  constructor(
    readonly chainError: string,
    detail: string,
  ) {
    super('CHAIN_ERROR', `${chainError}: ${detail}`);
  }
}
