/**
 * Token bucket per key: `perMinute` requests per minute, bursts up to the same number. Keys are
 * verified hotkeys (the axon takes a token only after the signature check). The table is bounded:
 * beyond `maxKeys`, full buckets are dropped first (a full bucket and no bucket are the same state),
 * then the least recently used.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = () => Date.now(),
    private readonly maxKeys = 10_000,
  ) {}

  take(key: string): boolean {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: t };
    b.tokens = Math.min(this.perMinute, b.tokens + ((t - b.at) / 60_000) * this.perMinute);
    b.at = t;
    const granted = b.tokens >= 1;
    if (granted) b.tokens -= 1;
    this.buckets.delete(key); // re-inserted last: the map's order is least recently used first
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.evict(t);
    return granted;
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(t: number): void {
    for (const [k, b] of this.buckets)
      if (b.tokens + ((t - b.at) / 60_000) * this.perMinute >= this.perMinute) this.buckets.delete(k);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(k);
    }
  }
}
