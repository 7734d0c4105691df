/**
 * The proving pool's waiting room, ordered by priority (the caller's stake): the highest priority
 * goes to a worker first, oldest first among equals. When the room is full, a newcomer with a
 * strictly higher priority displaces the lowest-priority, newest entry; an equal or lower one is
 * refused. So callers without stake (priority 0) never displace anyone, and a validator's job is
 * only ever displaced by one with more stake. Capacities are small (tens), so scans are linear.
 */
export class AdmissionQueue<T> {
  private readonly entries: { readonly item: T; readonly priority: number; readonly seq: number }[] = [];
  private seq = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.length;
  }

  /** Entries that would go to a worker before a newcomer of this priority. */
  aheadOf(priority: number): number {
    let n = 0;
    for (const e of this.entries) if (e.priority >= priority) n++;
    return n;
  }

  /** Admits the item, possibly displacing one; refuses it when the room is full of equals or betters. */
  offer(item: T, priority: number): { admitted: true; displaced?: T } | { admitted: false } {
    if (this.entries.length < this.capacity) {
      this.entries.push({ item, priority, seq: this.seq++ });
      return { admitted: true };
    }
    let victim = -1;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      const v = this.entries[victim];
      if (!v || e.priority < v.priority || (e.priority === v.priority && e.seq > v.seq)) victim = i;
    }
    const v = this.entries[victim];
    if (!v || v.priority >= priority) return { admitted: false };
    this.entries.splice(victim, 1);
    this.entries.push({ item, priority, seq: this.seq++ });
    return { admitted: true, displaced: v.item };
  }

  /** The next item for a worker: highest priority, oldest first. */
  take(): T | undefined {
    let best = -1;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      const b = this.entries[best];
      if (!b || e.priority > b.priority || (e.priority === b.priority && e.seq < b.seq)) best = i;
    }
    return best < 0 ? undefined : this.entries.splice(best, 1)[0]!.item;
  }

  /** Removes an item that leaves before its turn (deadline, cancellation); false when it is not here. */
  remove(item: T): boolean {
    const i = this.entries.findIndex((e) => e.item === item);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** Empties the room, returning what was waiting. */
  drain(): T[] {
    return this.entries.splice(0).map((e) => e.item);
  }
}
