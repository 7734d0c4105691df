import { describe, expect, it } from 'vitest';
import { EventHub, type HubEvent } from './eventHub.ts';

describe('EventHub', () => {
  it('replays the history to a late subscriber, follows until the final event, then stops', () => {
    const hub = new EventHub();
    hub.open('a');
    hub.emit('a', 'queued');
    hub.emit('a', 'sent', { miner: 'm1' });
    const seen: HubEvent[] = [];
    const unsubscribe = hub.subscribe('a', (e) => seen.push(e));
    expect(unsubscribe).toBeDefined();
    hub.emit('a', 'done', { class: 3 });
    hub.emit('a', 'sent', { miner: 'late' }); // after the final event: ignored
    expect(seen.map((e) => e.type)).toEqual(['queued', 'sent', 'done']);
    expect(seen[2]!.data).toEqual({ class: 3 });
    // a subscriber after the end still gets the whole story
    const after: string[] = [];
    hub.subscribe('a', (e) => after.push(e.type));
    expect(after).toEqual(['queued', 'sent', 'done']);
    expect(hub.subscribe('unknown', () => {})).toBeUndefined();
  });

  it('drops finished channels after keepMs', async () => {
    const hub = new EventHub(0);
    hub.open('a');
    hub.emit('a', 'failed');
    await new Promise((r) => setTimeout(r, 5));
    hub.open('b');
    hub.emit('b', 'queued'); // any emit sweeps
    expect(hub.subscribe('a', () => {})).toBeUndefined();
    expect(hub.subscribe('b', () => {})).toBeDefined();
  });
});
