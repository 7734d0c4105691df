import { MAX_TIMEOUT_SECONDS } from './headers.ts';

/** How far a nonce may lag behind the local clock beyond the request's own timeout (the SDK's 4 s). */
export const ALLOWED_DELTA_NS = 4_000_000_000n;
/** How far a nonce may run ahead of the local clock (clock skew between hosts). */
export const ALLOWED_FUTURE_NS = 60_000_000_000n;

/**
 * Replay protection for signed requests, as the Bittensor SDK's axon does it: a nonce (ns since the
 * epoch) is accepted when it is no older than now − (allowed delta + the request's timeout), no
 * further ahead than the allowed skew, and strictly greater than the last nonce accepted for the
 * same hotkey and uuid.
 *
 * The timeout header is not signed, so a replayer could claim the longest timeout: an entry is
 * therefore kept for the longest window any request can have (allowed delta + MAX_TIMEOUT_SECONDS),
 * and only then forgotten. The table is bounded (`maxEntries`, oldest forgotten first); only callers
 * that passed the signature check reach it, so it holds the subnet's validators, not strangers.
 */
export class NonceGuard {
  private readonly last = new Map<string, bigint>();
  private lastSweep = 0n;
  private readonly retainNs = ALLOWED_DELTA_NS + BigInt(MAX_TIMEOUT_SECONDS) * 1_000_000_000n;

  constructor(
    private readonly now: () => bigint = () => BigInt(Date.now()) * 1_000_000n,
    private readonly maxEntries = 100_000,
  ) {}

  /** Accepts and records the nonce, or says why it is refused. */
  check(
    hotkey: string,
    uuid: string,
    nonce: bigint,
    timeoutSeconds: number,
  ): { ok: true } | { ok: false; reason: string } {
    const now = this.now();
    const windowNs = ALLOWED_DELTA_NS + BigInt(Math.ceil(timeoutSeconds * 1e9));
    if (nonce < now - windowNs)
      return { ok: false, reason: `nonce is older than ${Number(windowNs / 1_000_000n) / 1000} s` };
    if (nonce > now + ALLOWED_FUTURE_NS) return { ok: false, reason: 'nonce is in the future' };
    const key = `${hotkey}|${uuid}`;
    const previous = this.last.get(key);
    if (previous !== undefined && nonce <= previous)
      return { ok: false, reason: 'nonce was already used (replay)' };
    this.last.delete(key); // re-inserted last: the map's order is oldest-touched first
    this.last.set(key, nonce);
    if (now - this.lastSweep > 60_000_000_000n || this.last.size > this.maxEntries) this.sweep(now);
    return { ok: true };
  }

  get size(): number {
    return this.last.size;
  }

  private sweep(now: bigint): void {
    this.lastSweep = now;
    for (const [k, v] of this.last) if (v < now - this.retainNs) this.last.delete(k);
    for (const k of this.last.keys()) {
      if (this.last.size <= this.maxEntries) break;
      this.last.delete(k);
    }
  }
}
