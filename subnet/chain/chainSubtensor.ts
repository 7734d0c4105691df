import type { Call } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import type { Hotkey } from '../../protocol/keys.ts';
import { type Metagraph, type SubtensorClient, SubtensorError } from '../subtensorClient.ts';
import { type ChainHyperparameters, hyperparametersFrom } from './chainHyperparameters.ts';
import { neuronFromLite } from './chainNeurons.ts';
import { type ChainRpc, connectRpc, endpointOf } from './chainRpc.ts';
import { readWeights, type WeightsRow } from './chainWeights.ts';
import { extrinsicOutcome, systemEventsKey } from './extrinsicOutcome.ts';
import { checkWeights, Extrinsics, normaliseWeights } from './extrinsics.ts';
import { RuntimeApis } from './runtimeApis.ts';

/** Genesis hashes of the public networks: a client pointed at the wrong one says so. */
export const GENESIS: Readonly<Record<string, string>> = Object.freeze({
  finney: '0x2f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c03',
  test: '0x8f9cf856bf558a14440e75569c9e58594757048d7b3a84b5d25f6bd978263105',
});

export interface ChainOptions {
  /** finney, test, local, or a ws:// / wss:// URL. */
  readonly network: string;
  readonly netuid: number;
  /** Genesis hash the chain must have (default: the named network's, when known). */
  readonly genesisHash?: string;
  readonly timeoutMs?: number;
  /** The hotkey that signs this client's extrinsics (set_weights, serve_axon, burned_register). */
  readonly signer?: Hotkey;
  /** How long a submitted extrinsic may take to reach a block (default 60 s). */
  readonly txTimeoutMs?: number;
}

interface Header {
  readonly number: string;
}

interface RuntimeVersion {
  readonly specVersion: number;
  readonly transactionVersion: number;
}

/**
 * Reads a subnet of a real subtensor chain over JSON-RPC: the block clock, the metagraph (from
 * `NeuronInfoRuntimeApi_get_neurons_lite`) and the hyperparameters (`SubnetInfoRuntimeApi_get_subnet_hyperparams`),
 * decoded with the runtime's own metadata V15 types. Reads at the chain's head are cached per block
 * hash, so many readers within one block cost one round trip each.
 *
 * Writes (set_weights, serve_axon, burned_register) are built from the metadata, checked against
 * the subnet's rules, signed by the configured hotkey, submitted once and followed into a block,
 * whose events say whether the chain applied them or name its error.
 */
export class ChainSubtensor implements SubtensorClient {
  private cache = new Map<string, Promise<unknown>>();
  private cachedAt = '';
  private readonly extrinsics: Extrinsics;

  private constructor(
    private readonly rpc: ChainRpc,
    readonly apis: RuntimeApis,
    readonly netuid: number,
    private readonly options: ChainOptions,
  ) {
    this.extrinsics = new Extrinsics(apis);
  }

  static async connect(options: ChainOptions): Promise<ChainSubtensor> {
    const endpoint = endpointOf(options.network);
    const rpc = await connectRpc(
      endpoint,
      options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
    );
    try {
      const expected =
        options.genesisHash ??
        (Object.hasOwn(GENESIS, options.network) ? GENESIS[options.network] : undefined);
      if (expected) {
        const genesis = await rpc.send<string>('chain_getBlockHash', [0]);
        if (genesis.toLowerCase() !== expected.toLowerCase())
          throw new SubtensorError(
            'WrongNetwork',
            `${endpoint} is a chain with genesis ${genesis}, expected ${expected}${options.network === endpoint ? '' : ` (${options.network})`}: another network`,
          );
      }
      // Metadata_metadata_at_version(15): u32 little-endian
      const apis = RuntimeApis.fromMetadataAtVersion(
        await rpc.send<string>('state_call', ['Metadata_metadata_at_version', '0x0f000000']),
      );
      for (const m of [
        'NeuronInfoRuntimeApi_get_neurons_lite',
        'SubnetInfoRuntimeApi_get_subnet_hyperparams',
      ])
        if (!apis.has(m))
          throw new SubtensorError(
            'RuntimeApiMissing',
            `the chain at ${endpoint} has no runtime API ${m}: not a subtensor runtime zkinfer can read`,
          );
      return new ChainSubtensor(rpc, apis, options.netuid, options);
    } catch (e) {
      await rpc.close().catch(() => {});
      throw e;
    }
  }

  close(): Promise<void> {
    return this.rpc.close();
  }

  /** The head's hash; a new head empties the per-block cache. */
  private async head(): Promise<string> {
    const hash = await this.rpc.send<string>('chain_getHead', []);
    if (hash !== this.cachedAt) {
      this.cache = new Map();
      this.cachedAt = hash;
    }
    return hash;
  }

  private cached<T>(key: string, read: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = read();
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key)); // a failed read is not remembered
    }
    return p;
  }

  private async blockNumber(hash: string): Promise<number> {
    const header = await this.rpc.send<Header>('chain_getHeader', [hash]);
    return Number.parseInt(header.number, 16);
  }

  /** The number of the head block `hash` (cached with the head). */
  private headNumber(hash: string): Promise<number> {
    return this.cached('block', () => this.blockNumber(hash));
  }

  async currentBlock(): Promise<number> {
    return this.headNumber(await this.head());
  }

  private async call(method: string, args: readonly unknown[], at?: string): Promise<Codec | null> {
    const params = [method, this.apis.encodeArgs(method, args), ...(at ? [at] : [])];
    return this.apis.decode(method, await this.rpc.send<string>('state_call', params));
  }

  /** The subnet's neurons at the head, or at block `at`. */
  async metagraph(
    at?: number,
  ): Promise<Metagraph & { readonly neurons: ReturnType<typeof neuronFromLite>[] }> {
    // at the head the runtime call names no block (as the SDK calls it); the head's number is cached
    const read = async (block: Promise<number>, hash?: string) => {
      const [number, lite] = await Promise.all([
        block,
        this.call('NeuronInfoRuntimeApi_get_neurons_lite', [this.netuid], hash),
      ]);
      const neurons = [...((lite ?? []) as Iterable<Codec>)]
        .map(neuronFromLite)
        .sort((a, b) => a.uid - b.uid);
      return { block: number, neurons };
    };
    if (at !== undefined) {
      const hash = await this.rpc.send<string | null>('chain_getBlockHash', [at]);
      if (!hash) throw new SubtensorError('UnknownBlock', `the chain has no block ${at}`);
      return read(this.blockNumber(hash), hash);
    }
    const head = await this.head();
    return this.cached('metagraph', () => read(this.headNumber(head)));
  }

  /** The subnet's weights rows (SubtensorModule.Weights) at the head, or at block `at`. */
  async weights(at?: number): Promise<{ readonly block: number; readonly rows: WeightsRow[] }> {
    if (at !== undefined) {
      const hash = await this.rpc.send<string | null>('chain_getBlockHash', [at]);
      if (!hash) throw new SubtensorError('UnknownBlock', `the chain has no block ${at}`);
      return { block: at, rows: await readWeights(this.rpc, this.netuid, hash) };
    }
    const head = await this.head();
    return this.cached('weights', async () => ({
      block: await this.headNumber(head),
      rows: await readWeights(this.rpc, this.netuid, head),
    }));
  }

  async hyperparameters(): Promise<ChainHyperparameters> {
    await this.head();
    return this.cached('hyperparameters', async () => {
      const h = await this.call('SubnetInfoRuntimeApi_get_subnet_hyperparams', [this.netuid]);
      if (!h) throw new SubtensorError('SubnetNotExists', `the chain has no subnet ${this.netuid}`);
      return hyperparametersFrom(h);
    });
  }

  private signerFor(hotkey: string): Hotkey {
    const signer = this.options.signer;
    if (!signer)
      throw new SubtensorError('NoSigner', 'this chain client was opened without a hotkey to sign with');
    if (signer.ss58 !== hotkey)
      throw new SubtensorError(
        'WrongSigner',
        `asked to act for ${hotkey}, but this client signs as ${signer.ss58}`,
      );
    return signer;
  }

  /** set_weights: scaled as the SDK scales them, refused here by the chain's error name when the subnet would refuse. */
  async setWeights(
    hotkey: string,
    uids: readonly number[],
    values: readonly number[],
    versionKey: number,
  ): Promise<void> {
    const signer = this.signerFor(hotkey);
    const [h, mg, block] = await Promise.all([this.hyperparameters(), this.metagraph(), this.currentBlock()]);
    const me = mg.neurons.find((n) => n.hotkey === hotkey);
    if (!me)
      throw new SubtensorError(
        'HotKeyNotRegisteredInSubNet',
        `${hotkey} is not registered on subnet ${this.netuid}`,
      );
    const w = normaliseWeights(uids, values);
    checkWeights(w, {
      neurons: mg.neurons.length,
      minAllowedWeights: h.minAllowedWeights,
      commitRevealWeightsEnabled: h.commitRevealWeightsEnabled,
      weightsRateLimit: h.weightsRateLimit,
      lastUpdate: me.lastUpdate,
      currentBlock: block,
    });
    await this.submit(this.extrinsics.setWeights(this.netuid, w.uids, w.weights, versionKey), signer);
  }

  async serveAxon(hotkey: string, url: string): Promise<void> {
    await this.submit(this.extrinsics.serveAxon(this.netuid, url, 1), this.signerFor(hotkey));
  }

  /**
   * burned_register: registers `hotkey` on the subnet, paying the burn from `coldkey`, which signs
   * (the chain takes the registration's origin as the hotkey's owner).
   */
  async burnedRegister(hotkey: string, coldkey: Hotkey): Promise<void> {
    await this.submit(this.extrinsics.burnedRegister(this.netuid, hotkey), coldkey);
  }

  /** Signs at the head, submits once, and reads the including block's events; returns its hash. */
  private async submit(call: Call, signer: Hotkey): Promise<string> {
    const [genesisHash, head, runtime, nonce] = await Promise.all([
      this.rpc.send<string>('chain_getBlockHash', [0]),
      this.rpc.send<string>('chain_getHead', []),
      this.rpc.send<RuntimeVersion>('state_getRuntimeVersion', []),
      this.rpc.send<number>('system_accountNextIndex', [signer.ss58]),
    ]);
    const hex = this.extrinsics.sign(call, signer, {
      nonce,
      genesisHash,
      blockHash: head,
      blockNumber: await this.blockNumber(head),
      specVersion: runtime.specVersion,
      transactionVersion: runtime.transactionVersion,
    });
    const blockHash = await this.rpc.submitAndWatch(hex, this.options.txTimeoutMs ?? 60_000);
    const block = await this.rpc.send<{ block: { extrinsics: string[] } }>('chain_getBlock', [blockHash]);
    const index = block.block.extrinsics.findIndex((x) => x.toLowerCase() === hex.toLowerCase());
    if (index < 0)
      throw new SubtensorError('OutcomeUnknown', `block ${blockHash} does not hold the extrinsic`);
    const events = await this.rpc.send<string | null>('state_getStorage', [
      systemEventsKey(this.apis),
      blockHash,
    ]);
    extrinsicOutcome(this.apis, events, index);
    return blockHash;
  }
}
