import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ZkinferError } from '../protocol/errors.ts';
import { DEFAULT_HYPERPARAMETERS, type Hyperparameters, maxUpscaleU16, SubnetState } from './subnetState.ts';
import { type Metagraph, type NeuronInfo, type SubtensorClient, SubtensorError } from './subtensorClient.ts';
import type { EpochOutput } from './yuma/epoch.ts';

export interface ChainParameters extends Hyperparameters {
  maxAllowedUids: number;
  immunityPeriod: number;
  weightsRateLimit: number;
  weightsVersionKey: number;
  minAllowedWeights: number;
  /** u16: the largest share one uid may get of a validator's weights (65535: no limit). */
  maxWeightLimit: number;
  weightsMinStake: number;
  /** rao emitted into the subnet per block. */
  blockEmission: number;
  /** u16 share of each epoch's emission paid to the subnet owner. */
  ownerCut: number;
}

export const DEFAULT_CHAIN: Readonly<ChainParameters> = Object.freeze({
  ...DEFAULT_HYPERPARAMETERS,
  tempo: 10,
  maxAllowedUids: 64,
  immunityPeriod: 100,
  weightsRateLimit: 1,
  weightsVersionKey: 0,
  minAllowedWeights: 1,
  maxWeightLimit: 65535,
  weightsMinStake: 0,
  blockEmission: 1_000_000_000,
  ownerCut: 11796,
});

interface Persisted {
  format: 'zkinfer/local-subtensor@1';
  params: ChainParameters;
  block: number;
  pendingEmission: number;
  ownerEmission: number;
  hotkeys: string[];
  stake: number[];
  lastUpdate: number[];
  blockAtRegistration: number[];
  permits: boolean[];
  weights: [number, number][][];
  bonds: [number, number][][];
  axons: (string | null)[];
  totalEmission: number[];
  last: Pick<
    EpochOutput,
    | 'incentive'
    | 'dividends'
    | 'consensus'
    | 'trust'
    | 'validatorTrust'
    | 'emission'
    | 'weights'
    | 'clippedWeights'
    | 'emaBonds'
    | 'activeStake'
  > | null;
  lastEpochBlock: number;
}

/**
 * A local subtensor for one subnet: block clock, registration with immunity and pruning, stake,
 * serve_axon, set_weights with the chain's checks in the chain's order, an epoch every `tempo`
 * blocks running Yuma Consensus, per-block pending emission and the owner cut. Its state is a
 * JSON file, written atomically after every change, so a demo can stop and resume.
 */
export class LocalSubtensor implements SubtensorClient {
  private state: SubnetState;
  private hotkeys: string[] = [];
  private axons: (string | null)[] = [];
  private totalEmission: number[] = [];
  private pendingEmission = 0;
  private ownerEmission = 0;
  private last: Persisted['last'] = null;
  private lastEpochBlock = 0;

  private constructor(
    readonly params: ChainParameters,
    private readonly file: string | undefined,
  ) {
    this.state = new SubnetState(0, params);
  }

  /** Opens the chain stored in `file` (or starts one there with `params`); no file: in memory only. */
  static open(file: string | undefined, params: Partial<ChainParameters> = {}): LocalSubtensor {
    if (file && existsSync(file)) {
      let p: Persisted;
      try {
        p = JSON.parse(readFileSync(file, 'utf8')) as Persisted;
      } catch (cause) {
        throw new ZkinferError('IO', `${file} is not a readable local subtensor state file`, { cause });
      }
      if (p.format !== 'zkinfer/local-subtensor@1') {
        throw new ZkinferError(
          'IO',
          `${file} is not a local subtensor state file (format ${String(p.format)})`,
        );
      }
      const chain = new LocalSubtensor(p.params, file);
      const s = new SubnetState(p.hotkeys.length, p.params);
      s.block = p.block;
      s.stake = p.stake;
      s.lastUpdate = p.lastUpdate;
      s.blockAtRegistration = p.blockAtRegistration;
      s.permits = p.permits;
      s.weights = p.weights;
      s.bonds = p.bonds;
      chain.state = s;
      chain.hotkeys = p.hotkeys;
      chain.axons = p.axons;
      chain.totalEmission = p.totalEmission;
      chain.pendingEmission = p.pendingEmission;
      chain.ownerEmission = p.ownerEmission;
      chain.last = p.last;
      chain.lastEpochBlock = p.lastEpochBlock;
      return chain;
    }
    const chain = new LocalSubtensor({ ...DEFAULT_CHAIN, ...params }, file);
    chain.save();
    return chain;
  }

  /** Opens an existing state file (readers: miners, validators, the CLI); never creates one. */
  static openExisting(file: string): LocalSubtensor {
    if (!existsSync(file)) throw new ZkinferError('IO', `no local subtensor state at ${file}`);
    return LocalSubtensor.open(file);
  }

  get block(): number {
    return this.state.block;
  }

  uidOf(hotkey: string): number | undefined {
    const i = this.hotkeys.indexOf(hotkey);
    return i >= 0 ? i : undefined;
  }

  /** Registers a hotkey (idempotent). When the subnet is full, the non-immune neuron with the lowest emission is replaced. */
  register(hotkey: string, stake = 0): number {
    const existing = this.uidOf(hotkey);
    if (existing !== undefined) return existing;
    const s = this.state;
    // a free uid while there is room, else the non-immune neuron with the lowest emission
    const uid =
      this.hotkeys.length < this.params.maxAllowedUids ? this.hotkeys.length : this.pruneCandidate();
    this.hotkeys[uid] = hotkey;
    s.stake[uid] = stake;
    s.lastUpdate[uid] = s.block;
    s.blockAtRegistration[uid] = s.block; // weights and bonds that predate this mask themselves out
    s.permits[uid] = false;
    s.weights = [...s.weights.slice(0, uid), [], ...s.weights.slice(uid + 1)];
    s.bonds = [...s.bonds.slice(0, uid), [], ...s.bonds.slice(uid + 1)];
    this.axons[uid] = null;
    this.totalEmission[uid] = 0;
    this.save();
    return uid;
  }

  private pruneCandidate(): number {
    const s = this.state;
    const prunable = this.hotkeys
      .map((_, i) => i)
      .filter((i) => s.block - s.blockAtRegistration[i]! >= this.params.immunityPeriod)
      .sort((a, b) => (this.last?.emission[a] ?? 0) - (this.last?.emission[b] ?? 0) || a - b);
    if (prunable.length === 0)
      throw new SubtensorError('NoNeuronIdAvailable', 'every neuron is still immune');
    return prunable[0]!;
  }

  addStake(hotkey: string, amount: number): void {
    const uid = this.requireUid(hotkey);
    this.state.stake[uid] = (this.state.stake[uid] ?? 0) + amount;
    this.save();
  }

  async serveAxon(hotkey: string, url: string): Promise<void> {
    this.axons[this.requireUid(hotkey)] = url;
    this.save();
  }

  async currentBlock(): Promise<number> {
    return this.state.block;
  }

  async hyperparameters() {
    return { ...this.params };
  }

  /** set_weights with subtensor's checks, in its order; nothing changes when one fails. */
  async setWeights(
    hotkey: string,
    uids: readonly number[],
    values: readonly number[],
    versionKey: number,
  ): Promise<void> {
    const p = this.params;
    const s = this.state;
    const n = this.hotkeys.length;
    if (uids.length !== values.length)
      throw new SubtensorError('WeightVecNotEqualSize', `${uids.length} uids, ${values.length} values`);
    if (uids.length > n)
      throw new SubtensorError('UidsLengthExceedUidsInSubNet', `${uids.length} uids, the subnet has ${n}`);
    const uid = this.uidOf(hotkey);
    if (uid === undefined)
      throw new SubtensorError('HotKeyNotRegisteredInSubNet', `${hotkey} is not registered`);
    if ((s.stake[uid] ?? 0) < p.weightsMinStake)
      throw new SubtensorError('NotEnoughStakeToSetWeights', `stake ${s.stake[uid]} < ${p.weightsMinStake}`);
    if (p.weightsVersionKey > versionKey)
      throw new SubtensorError('IncorrectWeightVersionKey', `version ${versionKey} < ${p.weightsVersionKey}`);
    const last = s.lastUpdate[uid] ?? 0;
    const hasSet = s.weights[uid]!.length > 0;
    if (hasSet && last !== 0 && s.block - last < p.weightsRateLimit) {
      throw new SubtensorError(
        'SettingWeightsTooFast',
        `last set at block ${last}, rate limit ${p.weightsRateLimit} blocks, now ${s.block}`,
      );
    }
    const selfOnly = uids.length === 1 && uids[0] === uid;
    if (!selfOnly && !s.permits[uid] && p.ownerUid !== uid)
      throw new SubtensorError('NeuronNoValidatorPermit', `uid ${uid} has no validator permit`);
    if (new Set(uids).size !== uids.length) throw new SubtensorError('DuplicateUids', 'a uid appears twice');
    if (uids.some((u) => !Number.isInteger(u) || u < 0 || u >= n))
      throw new SubtensorError('UidVecContainInvalidOne', 'a uid is not in the subnet');
    if (!selfOnly && uids.length < Math.min(p.minAllowedWeights, n)) {
      throw new SubtensorError(
        'WeightVecLengthIsLow',
        `${uids.length} weights, at least ${Math.min(p.minAllowedWeights, n)} required`,
      );
    }
    if (values.some((v) => !Number.isInteger(v) || v < 0 || v > 65535))
      throw new SubtensorError('UidVecContainInvalidOne', 'weights must be u16');
    const up = maxUpscaleU16(values);
    if (!selfOnly && p.maxWeightLimit < 65535) {
      const total = up.reduce((a, b) => a + b, 0);
      if (total > 0 && Math.max(...up) / total > p.maxWeightLimit / 65535)
        throw new SubtensorError('MaxWeightExceeded', 'one weight exceeds the max weight limit');
    }
    s.storeWeights(uid, uids, values);
    this.save();
  }

  /** Advances the clock; each block adds pending emission; every `tempo` blocks an epoch distributes it. */
  advance(blocks = 1): EpochOutput[] {
    const epochs: EpochOutput[] = [];
    for (let b = 0; b < blocks; b++) {
      this.state.block += 1;
      this.pendingEmission += this.params.blockEmission;
      if (this.state.block % this.params.tempo === 0 && this.hotkeys.length > 0) epochs.push(this.runEpoch());
    }
    this.save();
    return epochs;
  }

  private runEpoch(): EpochOutput {
    const owner = Math.floor((this.pendingEmission * this.params.ownerCut) / 65535);
    this.ownerEmission += owner;
    const out = this.state.epoch(this.pendingEmission - owner);
    this.pendingEmission = 0;
    out.emission.forEach((e, i) => {
      this.totalEmission[i] = (this.totalEmission[i] ?? 0) + e;
    });
    this.last = {
      incentive: out.incentive,
      dividends: out.dividends,
      consensus: out.consensus,
      trust: out.trust,
      validatorTrust: out.validatorTrust,
      emission: out.emission,
      weights: out.weights,
      clippedWeights: out.clippedWeights,
      emaBonds: out.emaBonds,
      activeStake: out.activeStake,
    };
    this.lastEpochBlock = this.state.block;
    return out;
  }

  async metagraph(): Promise<Metagraph> {
    const s = this.state;
    const neurons: NeuronInfo[] = this.hotkeys.map((hotkey, uid) => ({
      uid,
      hotkey,
      stake: s.stake[uid] ?? 0,
      validatorPermit: s.permits[uid] ?? false,
      incentive: this.last?.incentive[uid] ?? 0,
      dividends: this.last?.dividends[uid] ?? 0,
      consensus: this.last?.consensus[uid] ?? 0,
      trust: this.last?.trust[uid] ?? 0,
      validatorTrust: this.last?.validatorTrust[uid] ?? 0,
      emission: this.last?.emission[uid] ?? 0,
      totalEmission: this.totalEmission[uid] ?? 0,
      lastUpdate: s.lastUpdate[uid] ?? 0,
      registeredAt: s.blockAtRegistration[uid] ?? 0,
      axon: this.axons[uid] ? { url: this.axons[uid]! } : null,
    }));
    return { block: s.block, neurons };
  }

  /** The consensus, clipping and bonds behind a uid's emission in the last epoch. */
  explain(uid: number) {
    if (uid < 0 || uid >= this.hotkeys.length)
      throw new SubtensorError('UidNotFound', `uid ${uid} is not in the subnet`);
    const l = this.last;
    const weightsIn = (l?.weights ?? []).flatMap((row, i) =>
      row
        .filter(([j]) => j === uid)
        .map(([, w]) => ({ validator: i, weight: w, stake: l?.activeStake[i] ?? 0 })),
    );
    const clippedIn = new Map(
      (l?.clippedWeights ?? []).flatMap((row, i) =>
        row.filter(([j]) => j === uid).map(([, w]) => [i, w] as const),
      ),
    );
    return {
      uid,
      hotkey: this.hotkeys[uid]!,
      epochBlock: this.lastEpochBlock,
      consensus: l?.consensus[uid] ?? 0,
      incentive: l?.incentive[uid] ?? 0,
      dividends: l?.dividends[uid] ?? 0,
      emission: l?.emission[uid] ?? 0,
      weightsReceived: weightsIn.map((w) => ({ ...w, clipped: clippedIn.get(w.validator) ?? 0 })),
      bondsHeld: (l?.emaBonds[uid] ?? []).map(([j, b]) => ({ miner: j, bond: b })),
      ownerEmission: this.ownerEmission,
    };
  }

  private requireUid(hotkey: string): number {
    const uid = this.uidOf(hotkey);
    if (uid === undefined)
      throw new SubtensorError('HotKeyNotRegisteredInSubNet', `${hotkey} is not registered`);
    return uid;
  }

  private save(): void {
    if (!this.file) return;
    const s = this.state;
    const p: Persisted = {
      format: 'zkinfer/local-subtensor@1',
      params: this.params,
      block: s.block,
      pendingEmission: this.pendingEmission,
      ownerEmission: this.ownerEmission,
      hotkeys: this.hotkeys,
      stake: s.stake,
      lastUpdate: s.lastUpdate,
      blockAtRegistration: s.blockAtRegistration,
      permits: s.permits,
      weights: s.weights as [number, number][][],
      bonds: s.bonds as [number, number][][],
      axons: this.axons,
      totalEmission: this.totalEmission,
      last: this.last,
      lastEpochBlock: this.lastEpochBlock,
    };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(p));
    renameSync(tmp, this.file);
  }
}
