/**
 * At most `limit` tasks run at once; waiting tasks start in priority order (0 first), first come
 * first served within a priority. The validator's organic requests use priority 0 and its own
 * challenges 1, so a caller's request never waits behind a round of synthetic challenges.
 */
export class PriorityLimiter {
  private running = 0;
  private readonly waiting: { priority: number; seq: number; start: () => void }[] = [];
  private seq = 0;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  /** Tasks started or waiting, by whether they have started. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(priority: number, task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      await new Promise<void>((start) => {
        this.waiting.push({ priority, seq: this.seq++, start });
        this.waiting.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
      });
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // the slot passes straight to the next task: `running` stays counted for it
      if (next) next.start();
      else this.running--;
    }
  }
}
