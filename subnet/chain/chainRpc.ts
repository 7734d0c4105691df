import { WsProvider } from '@polkadot/rpc-provider';
import { SubtensorError } from '../subtensorClient.ts';
import { poolRefusal } from './customErrors.ts';

/** JSON-RPC to a subtensor node. */
export interface ChainRpc {
  send<T>(method: string, params: readonly unknown[]): Promise<T>;
  /**
   * Submits a signed extrinsic and follows it (author_submitAndWatchExtrinsic) until it is in a
   * block: resolves with that block's hash; rejects when the pool refuses it (invalid, dropped,
   * usurped) or after `timeoutMs`. Never resubmitted: a retry could apply it twice.
   */
  submitAndWatch(extrinsic: string, timeoutMs: number): Promise<string>;
  close(): Promise<void>;
}

/** A transaction-pool status update, as author_extrinsicUpdate sends it. */
type TxStatus = string | Record<string, unknown>;

/** Public endpoints of the networks a config may name instead of a URL. */
export const NETWORKS: Readonly<Record<string, string>> = Object.freeze({
  finney: 'wss://entrypoint-finney.opentensor.ai:443',
  test: 'wss://test.finney.opentensor.ai:443',
  local: 'ws://127.0.0.1:9944',
});

export function endpointOf(network: string): string {
  if (Object.hasOwn(NETWORKS, network)) return NETWORKS[network]!;
  if (/^wss?:\/\//.test(network)) return network;
  throw new SubtensorError(
    'UnknownNetwork',
    `network "${network}" is none of ${Object.keys(NETWORKS).join(', ')} and not a ws:// or wss:// URL`,
  );
}

/** Resolves once the provider is connected (at once when it is), or false after `ms`. */
function connected(provider: WsProvider, ms: number): Promise<boolean> {
  if (provider.isConnected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(false);
    }, ms);
    const off = provider.on('connected', () => {
      clearTimeout(timer);
      off();
      resolve(true);
    });
  });
}

/**
 * A WebSocket JSON-RPC connection (the @polkadot/api provider, which reconnects by itself). A call
 * that fails because the connection dropped waits for the provider to reconnect (up to `timeoutMs`)
 * and is sent again, up to `retries` times; an endpoint that cannot be reached within `timeoutMs`
 * is an error naming it.
 */
export async function connectRpc(
  endpoint: string,
  options: { timeoutMs?: number; retries?: number } = {},
): Promise<ChainRpc> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 3;
  const provider = new WsProvider(endpoint, 1000, {}, timeoutMs);
  // the provider reports connection errors as events; they are surfaced by the calls that fail
  provider.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      provider.isReady,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    await provider.disconnect().catch(() => {});
    throw new SubtensorError(
      'ChainUnreachable',
      `cannot reach the chain at ${endpoint}: ${(e as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
  return {
    async send<T>(method: string, params: readonly unknown[]): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        try {
          return (await provider.send(method, [...params])) as T;
        } catch (e) {
          const dropped = !provider.isConnected;
          if (!dropped || attempt >= retries || !(await connected(provider, timeoutMs))) {
            throw new SubtensorError(
              dropped ? 'ChainUnreachable' : 'RpcError',
              `${method} on ${endpoint}: ${(e as Error).message}`,
            );
          }
        }
      }
    },
    submitAndWatch(extrinsic: string, timeoutMs: number): Promise<string> {
      return new Promise<string>((resolve, reject) => {
        let subscription: string | number | undefined;
        let settled = false;
        let timer: NodeJS.Timeout | undefined;
        const finish = (error: SubtensorError | null, blockHash?: string) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (subscription !== undefined)
            provider
              .unsubscribe('author_extrinsicUpdate', 'author_unwatchExtrinsic', subscription)
              .catch(() => {});
          if (error) reject(error);
          else resolve(blockHash!);
        };
        timer = setTimeout(
          () => finish(new SubtensorError('TransactionTimeout', `not in a block within ${timeoutMs} ms`)),
          timeoutMs,
        );
        provider
          .subscribe(
            'author_extrinsicUpdate',
            'author_submitAndWatchExtrinsic',
            [extrinsic],
            (error, status: TxStatus) => {
              if (error) return finish(poolRefusal((error as Error).message));
              if (typeof status === 'object' && status !== null) {
                const inBlock = status['inBlock'] ?? status['finalized'];
                if (typeof inBlock === 'string') return finish(null, inBlock);
                const bad = ['invalid', 'dropped', 'usurped', 'finalityTimeout'].find((k) => k in status);
                if (bad)
                  return finish(new SubtensorError('TransactionRefused', `the transaction pool says ${bad}`));
              } else if (status === 'invalid' || status === 'dropped') {
                finish(new SubtensorError('TransactionRefused', `the transaction pool says ${status}`));
              }
            },
          )
          .then(
            (id) => {
              subscription = id;
              if (settled)
                provider.unsubscribe('author_extrinsicUpdate', 'author_unwatchExtrinsic', id).catch(() => {});
            },
            // the node refused it outright (bad signature, stale nonce, a subtensor check)
            (e: Error) => finish(poolRefusal(e.message)),
          );
      });
    },
    close: () => provider.disconnect(),
  };
}
