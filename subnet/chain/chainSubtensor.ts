import type { Codec } from '@polkadot/types/types';
import { type Metagraph, SubtensorError } from '../subtensorClient.ts';
import { type ChainHyperparameters, hyperparametersFrom } from './chainHyperparameters.ts';
import { neuronFromLite } from './chainNeurons.ts';
import { type ChainRpc, connectRpc, endpointOf } from './chainRpc.ts';
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
}

interface Header {
  readonly number: string;
}

/**
 * Reads a subnet of a real subtensor chain over JSON-RPC: the block clock, the metagraph (from
 * `NeuronInfoRuntimeApi_get_neurons_lite`) and the hyperparameters (`SubnetInfoRuntimeApi_get_subnet_hyperparams`),
 * decoded with the runtime's own metadata V15 types. Reads at the chain's head are cached per block
 * hash, so many readers within one block cost one round trip each.
 *
 * Writing (serve_axon, set_weights, burned_register) is not implemented yet: those calls refuse with
 * a SubtensorError saying so.
 */
export class ChainSubtensor {
  private cache = new Map<string, Promise<unknown>>();
  private cachedAt = '';

  private constructor(
    private readonly rpc: ChainRpc,
    readonly apis: RuntimeApis,
    readonly netuid: number,
  ) {}

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
            `${endpoint} is a chain with genesis ${genesis}, not ${options.network === endpoint ? 'the expected' : options.network}'s ${expected}`,
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
      return new ChainSubtensor(rpc, apis, options.netuid);
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

  async currentBlock(): Promise<number> {
    const hash = await this.head();
    return this.cached(`block`, () => this.blockNumber(hash));
  }

  private async call(method: string, args: readonly unknown[], at?: string): Promise<Codec | null> {
    const params = [method, this.apis.encodeArgs(method, args), ...(at ? [at] : [])];
    return this.apis.decode(method, await this.rpc.send<string>('state_call', params));
  }

  /** The subnet's neurons at the head, or at block `at`. */
  async metagraph(
    at?: number,
  ): Promise<Metagraph & { readonly neurons: ReturnType<typeof neuronFromLite>[] }> {
    const read = async (hash?: string) => {
      const [block, lite] = await Promise.all([
        hash ? this.blockNumber(hash) : this.currentBlock(),
        this.call('NeuronInfoRuntimeApi_get_neurons_lite', [this.netuid], hash),
      ]);
      const neurons = [...((lite ?? []) as Iterable<Codec>)]
        .map(neuronFromLite)
        .sort((a, b) => a.uid - b.uid);
      return { block, neurons };
    };
    if (at !== undefined) {
      const hash = await this.rpc.send<string | null>('chain_getBlockHash', [at]);
      if (!hash) throw new SubtensorError('UnknownBlock', `the chain has no block ${at}`);
      return read(hash);
    }
    await this.head();
    return this.cached('metagraph', () => read());
  }

  async hyperparameters(): Promise<ChainHyperparameters> {
    await this.head();
    return this.cached('hyperparameters', async () => {
      const h = await this.call('SubnetInfoRuntimeApi_get_subnet_hyperparams', [this.netuid]);
      if (!h) throw new SubtensorError('SubnetNotExists', `the chain has no subnet ${this.netuid}`);
      return hyperparametersFrom(h);
    });
  }
}
