import type { Hotkey } from '../protocol/keys.ts';
import { LocalSubtensor } from '../subnet/localSubtensor.ts';
import type { Metagraph, NeuronInfo } from '../subnet/subtensorClient.ts';

/** Where a miner reads its subnet's metagraph: a local subtensor state file, or a real chain. */
export interface MetagraphSource {
  read(): Promise<Metagraph>;
  /** A real chain only: announces the miner's axon (serve_axon), signed by its hotkey. */
  serveAxon?(hotkey: string, url: string): Promise<void>;
  close(): Promise<void>;
}

/** A metagraph older than this (the chain unreachable all along) no longer admits anyone. */
export const MAX_STALE_MS = 10 * 60_000;

export async function openMetagraphSource(
  config: {
    readonly subtensorState: string | undefined;
    readonly network: string | undefined;
    readonly netuid: number | undefined;
  },
  signer?: Hotkey,
): Promise<MetagraphSource | undefined> {
  if (config.subtensorState) {
    const file = config.subtensorState;
    return { read: () => LocalSubtensor.openExisting(file).metagraph(), close: async () => {} };
  }
  if (config.network === undefined) return undefined;
  // loaded only for a real chain: its type registry costs start-up
  const { ChainSubtensor } = await import('../subnet/chain/chainSubtensor.ts');
  const chain = await ChainSubtensor.connect({
    network: config.network,
    netuid: config.netuid ?? 0,
    ...(signer ? { signer } : {}),
  });
  return {
    read: () => chain.metagraph(),
    serveAxon: (hotkey, url) => chain.serveAxon(hotkey, url),
    close: () => chain.close(),
  };
}

/**
 * The metagraph as the miner admits callers by it: re-read at most once a second; when a read
 * fails, the last one read keeps serving for up to MAX_STALE_MS (the failure is logged once), and
 * after that, or with none read yet, every caller is refused with the reason.
 */
export class MetagraphView {
  private last: { at: number; neurons: ReadonlyMap<string, NeuronInfo> } | undefined;
  private failing = false;

  constructor(
    private readonly source: MetagraphSource,
    private readonly log: (e: Record<string, unknown>) => void = () => {},
  ) {}

  private refreshing: Promise<void> | undefined;

  /**
   * The neurons by hotkey, or why none can be trusted now. A caller never waits on the chain while
   * a metagraph younger than MAX_STALE_MS is known: a re-read starts in the background instead.
   */
  async neurons(): Promise<ReadonlyMap<string, NeuronInfo> | string> {
    const age = this.last ? Date.now() - this.last.at : Number.POSITIVE_INFINITY;
    if (age > 1000) this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
    if (this.last && age <= MAX_STALE_MS) return this.last.neurons;
    await this.refreshing;
    if (this.last && Date.now() - this.last.at <= MAX_STALE_MS) return this.last.neurons;
    return `the subnet metagraph cannot be read: ${this.why ?? 'no metagraph read yet'}`;
  }

  private why: string | undefined;

  private async refresh(): Promise<void> {
    try {
      const mg = await this.source.read();
      this.last = { at: Date.now(), neurons: new Map(mg.neurons.map((n) => [n.hotkey, n])) };
      if (this.failing) this.log({ msg: 'metagraph readable again', block: mg.block });
      this.failing = false;
    } catch (e) {
      this.why = (e as Error).message;
      if (!this.failing)
        this.log({ msg: 'metagraph unreadable; serving the last one read', reason: this.why });
      this.failing = true;
    }
  }

  /** The last neurons read (for priorities), without reading. */
  get known(): ReadonlyMap<string, NeuronInfo> | undefined {
    return this.last?.neurons;
  }
}

/**
 * Announces the miner's public axon URL on a real chain unless the metagraph already shows it (a
 * restart does not spend the subnet's serving rate limit); a refusal is logged with the chain's
 * error name and the miner serves on (validators that knew the old address keep finding it).
 */
export async function announceAxon(
  source: MetagraphSource,
  hotkey: string,
  url: string,
  log: (e: Record<string, unknown>) => void,
): Promise<void> {
  if (!source.serveAxon) return;
  try {
    const mine = (await source.read()).neurons.find((n) => n.hotkey === hotkey);
    if (mine?.axon?.url === url.replace(/\/+$/, '')) {
      log({ msg: 'axon already announced', url });
      return;
    }
    await source.serveAxon(hotkey, url);
    log({ msg: 'axon announced', url });
  } catch (e) {
    log({ msg: 'axon announce refused', url, reason: (e as Error).message });
  }
}
