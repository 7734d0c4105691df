/**
 * Replay protection for signed requests: a nonce (ns since the epoch) must be recent and strictly
 * greater than the last one accepted for the same hotkey and uuid. Memory stays bounded: entries
 * older than the window are forgotten, and nonces older than the window are refused anyway.
 */
export class NonceGuard {
  private readonly last = new Map<string, bigint>();
  private lastSweep = 0n;

  constructor(
    /** How far a nonce may lag behind (or run ahead of) the local clock. */
    private readonly windowNs: bigint = 60_000_000_000n,
    private readonly now: () => bigint = () => BigInt(Date.now()) * 1_000_000n,
  ) {}

  /** Accepts and records the nonce, or says why it is refused. */
  check(hotkey: string, uuid: string, nonce: bigint): { ok: true } | { ok: false; reason: string } {
    const now = this.now();
    if (nonce < now - this.windowNs) return { ok: false, reason: 'nonce is too old' };
    if (nonce > now + this.windowNs) return { ok: false, reason: 'nonce is in the future' };
    const key = `${hotkey}|${uuid}`;
    const previous = this.last.get(key);
    if (previous !== undefined && nonce <= previous)
      return { ok: false, reason: 'nonce was already used (replay)' };
    this.last.set(key, nonce);
    if (now - this.lastSweep > this.windowNs) this.sweep(now);
    return { ok: true };
  }

  private sweep(now: bigint): void {
    this.lastSweep = now;
    for (const [k, v] of this.last) if (v < now - this.windowNs) this.last.delete(k);
  }
}
