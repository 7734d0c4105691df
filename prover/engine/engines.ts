import { readFile, stat } from 'node:fs/promises';
import * as snarkjs from 'snarkjs';
import { InvalidInputError } from '../../protocol/errors.ts';
import { DEFAULT_TABLE_BUDGET, type Groth16Proof, type PhaseTimes, PreparedModel } from './cachedProver.ts';

/**
 * Proving engines behind one interface. "native-cache" keeps each model prepared in its own WASM
 * memory (see cachedProver.ts) and is the default; "snarkjs" is snarkjs's own prover from a zkey
 * held in memory, kept as the reference and the fallback.
 */
export const ENGINES = ['native-cache', 'snarkjs'] as const;
export type EngineName = (typeof ENGINES)[number];
export const DEFAULT_ENGINE: EngineName = 'native-cache';

export interface EngineResult {
  readonly proof: Groth16Proof;
  readonly publicSignals: string[];
  /** Per-phase milliseconds (native-cache only). */
  readonly phases?: PhaseTimes;
}

export interface EngineOptions {
  /** Models kept warm (least recently used is dropped first). */
  readonly maxModels?: number;
  /** native-cache: bytes of precomputed tables per model. */
  readonly tableBudgetBytes?: number;
}

export interface ProvingEngine {
  readonly name: EngineName;
  /** Proves from a proving key on disk and a .wtns file's bytes. */
  prove(zkeyPath: string, wtns: Uint8Array): Promise<EngineResult>;
  /**
   * Loads and prepares a proving key so the next proof with it starts warm; with a sample
   * witness, also proves it once (and throws the proof away) so per-witness tables are built.
   */
  warm(zkeyPath: string, sampleWtns?: Uint8Array): Promise<void>;
  /** Bytes held by warm models. */
  memoryBytes(): number;
  /** native-cache: the prepared model of a key (for proofs shared among workers). */
  prepared?(zkeyPath: string): Promise<PreparedModel>;
}

export function parseEngineName(v: unknown, where = 'engine'): EngineName {
  if (typeof v === 'string' && (ENGINES as readonly string[]).includes(v)) return v as EngineName;
  throw new InvalidInputError(
    `${where} must be one of ${ENGINES.join(', ')}, got ${JSON.stringify(v)}`,
    'INVALID_OPTION',
  );
}

/**
 * Per-path LRU whose entries are keyed also by the file's size and mtime: a key rewritten on disk
 * (a recompile, a new setup) is read again, never proved against stale points.
 */
class WarmCache<T> {
  private readonly entries = new Map<string, { version: string; value: Promise<T>; loaded?: T }>();
  constructor(
    private readonly max: number,
    private readonly load: (path: string) => Promise<T>,
  ) {}

  async get(path: string): Promise<T> {
    const s = await stat(path);
    const version = `${s.size}:${s.mtimeMs}`;
    let e = this.entries.get(path);
    if (e && e.version === version) {
      this.entries.delete(path); // re-insert: Map order is the LRU order
    } else {
      const entry: { version: string; value: Promise<T>; loaded?: T } = { version, value: this.load(path) };
      entry.value.then(
        (v) => {
          entry.loaded = v;
        },
        () => {
          if (this.entries.get(path) === entry) this.entries.delete(path);
        },
      );
      e = entry;
    }
    this.entries.set(path, e);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
    return e.value;
  }

  /** The values loaded so far, still held. */
  loaded(): T[] {
    return [...this.entries.values()].flatMap((e) => (e.loaded === undefined ? [] : [e.loaded]));
  }
}

class NativeCacheEngine implements ProvingEngine {
  readonly name = 'native-cache' as const;
  private readonly models: WarmCache<PreparedModel>;

  constructor(options: EngineOptions) {
    const budget = options.tableBudgetBytes ?? DEFAULT_TABLE_BUDGET;
    this.models = new WarmCache(options.maxModels ?? 4, async (path) =>
      PreparedModel.prepare(new Uint8Array(await readFile(path)), { tableBudgetBytes: budget }),
    );
  }

  async prove(zkeyPath: string, wtns: Uint8Array): Promise<EngineResult> {
    const model = await this.models.get(zkeyPath);
    return model.proveWtns(wtns);
  }

  prepared(zkeyPath: string): Promise<PreparedModel> {
    return this.models.get(zkeyPath);
  }

  async warm(zkeyPath: string, sampleWtns?: Uint8Array): Promise<void> {
    const model = await this.models.get(zkeyPath);
    if (sampleWtns) model.proveWtns(sampleWtns);
  }

  memoryBytes(): number {
    return this.models.loaded().reduce((sum, m) => sum + m.memoryBytes, 0);
  }
}

class SnarkjsEngine implements ProvingEngine {
  readonly name = 'snarkjs' as const;
  private readonly keys: WarmCache<Uint8Array>;

  constructor(options: EngineOptions) {
    this.keys = new WarmCache(options.maxModels ?? 4, async (path) => new Uint8Array(await readFile(path)));
  }

  async prove(zkeyPath: string, wtns: Uint8Array): Promise<EngineResult> {
    const zkey = await this.keys.get(zkeyPath);
    const { proof, publicSignals } = await snarkjs.groth16.prove(
      { type: 'mem', data: zkey },
      { type: 'mem', data: wtns },
    );
    return { proof: proof as Groth16Proof, publicSignals };
  }

  async warm(zkeyPath: string): Promise<void> {
    await this.keys.get(zkeyPath);
  }

  memoryBytes(): number {
    return this.keys.loaded().reduce((sum, b) => sum + b.byteLength, 0);
  }
}

export function createEngine(name: EngineName, options: EngineOptions = {}): ProvingEngine {
  return name === 'snarkjs' ? new SnarkjsEngine(options) : new NativeCacheEngine(options);
}
