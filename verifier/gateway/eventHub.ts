/** One server-sent event of a request: its type and what it carries. */
export interface HubEvent {
  readonly type: string;
  readonly at: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Event types after which a request's stream ends. */
export const FINAL_EVENTS: ReadonlySet<string> = new Set(['done', 'failed']);

interface Channel {
  readonly history: HubEvent[];
  readonly listeners: Set<(e: HubEvent) => void>;
  closedAt?: number;
}

/**
 * Progress of requests in flight, per request id: a subscriber first gets every event so far, then
 * each new one, until a final event. Finished channels are kept `keepMs` (a client that subscribes
 * just after the answer still sees the whole story), then dropped; the stored result remains.
 */
export class EventHub {
  private readonly channels = new Map<string, Channel>();

  constructor(private readonly keepMs = 5 * 60_000) {}

  open(id: string): void {
    this.channels.set(id, { history: [], listeners: new Set() });
  }

  emit(id: string, type: string, data: Record<string, unknown> = {}): void {
    const ch = this.channels.get(id);
    if (!ch || ch.closedAt !== undefined) return;
    const e: HubEvent = { type, at: new Date().toISOString(), data };
    ch.history.push(e);
    for (const l of ch.listeners) l(e);
    if (FINAL_EVENTS.has(type)) {
      ch.closedAt = Date.now();
      ch.listeners.clear();
    }
    this.sweep();
  }

  /** Replays the history, then follows; returns an unsubscribe, or undefined for an unknown id. */
  subscribe(id: string, listener: (e: HubEvent) => void): (() => void) | undefined {
    const ch = this.channels.get(id);
    if (!ch) return undefined;
    for (const e of ch.history) listener(e);
    if (ch.closedAt !== undefined) return () => {};
    ch.listeners.add(listener);
    return () => ch.listeners.delete(listener);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, ch] of this.channels)
      if (ch.closedAt !== undefined && now - ch.closedAt > this.keepMs) this.channels.delete(id);
  }
}
