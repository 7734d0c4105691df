import { InvalidInputError } from './errors.ts';

/**
 * Typed access to one parsed JSON config: every bad value becomes an error naming the config, the
 * key and why (`miner config: workers must be a positive integer, got "abc"`). Pure.
 */
export class ConfigReader {
  private readonly raw: Readonly<Record<string, unknown>>;

  constructor(
    private readonly scope: string,
    raw: unknown,
    known: readonly string[],
  ) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw this.error('(root)', 'must be a JSON object', raw);
    this.raw = raw as Record<string, unknown>;
    for (const k of Object.keys(this.raw)) {
      if (!known.includes(k))
        throw this.error(k, `is not a ${scope} setting (known: ${known.join(', ')})`, this.raw[k]);
    }
  }

  error(key: string, why: string, got: unknown): InvalidInputError {
    return new InvalidInputError(
      `${this.scope} config: ${key} ${why}, got ${JSON.stringify(got)}`,
      'INVALID_OPTION',
    );
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  value(key: string): unknown {
    return this.raw[key];
  }

  int(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      const kind =
        min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
      throw this.error(key, `must be ${kind}`, v);
    }
    if (v > max) throw this.error(key, `must be at most ${max}`, v);
    return v;
  }

  string(key: string, fallback?: string): string {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== 'string' || v === '') throw this.error(key, 'must be a non-empty string', v);
    return v;
  }

  optionalString(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw this.error(key, 'must be a non-empty string', v);
    return v;
  }

  strings(key: string, fallback: readonly string[] | undefined, what: string, nonEmpty = false): string[] {
    const v = this.raw[key] ?? fallback;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string') || (nonEmpty && v.length === 0)) {
      throw this.error(key, `must be a ${nonEmpty ? 'non-empty ' : ''}list of ${what}`, v);
    }
    return v as string[];
  }

  /** A hotkey: a dev URI or mnemonic, or a Bittensor hotkey file. */
  hotkey(): { readonly uri: string } | { readonly file: string } {
    const hk = this.raw['hotkey'] as Record<string, unknown> | undefined;
    if (hk && typeof hk['uri'] === 'string') return { uri: hk['uri'] };
    if (hk && typeof hk['file'] === 'string') return { file: hk['file'] };
    throw this.error('hotkey', 'must be { "uri": "//Alice" } or { "file": "path/to/hotkey" }', hk);
  }
}
