/** A BullMQ queue, worker or event reader: each can close politely or cut its connections. */
interface Closable {
  close(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Closes BullMQ clients, waiting at most `ms`. A polite close needs Redis (it sends QUIT, and a
 * client that queues commands while disconnected would wait for Redis forever); when Redis is gone
 * the clients are told to disconnect and left behind, so shutting down never hangs on a dead Redis.
 * Their reconnect timers may outlive this: a service process exits by itself after its cleanup
 * (see exitWhenStuck).
 */
export async function closeClients(clients: readonly Closable[], ms: number): Promise<void> {
  const polite = Promise.allSettled(clients.map((c) => c.close()));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const outcome = await Promise.race([polite, late]);
  clearTimeout(timer);
  if (outcome === 'late') for (const c of clients) c.disconnect().catch(() => {});
}

/**
 * For a long-running command after its cleanup: if anything still holds the event loop after
 * `ms` (a client reconnecting to a Redis that is gone), the process exits with `code` anyway.
 */
export function exitWhenStuck(code: number, ms = 1000): void {
  setTimeout(() => process.exit(code), ms).unref();
}
