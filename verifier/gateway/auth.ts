import { bodyHash, verifySignature } from '../../protocol/signing.ts';
import type { GatewayAuthConfig } from './gatewayConfig.ts';
import { GatewayError } from './gatewayError.ts';
import { type GatewayStore, keyHash } from './gatewayStore.ts';

/** Who made a request, and how many requests a minute it may make. */
export interface Caller {
  /** `key:<id>`, `hotkey:<ss58>` or `open`. */
  readonly id: string;
  readonly quotaPerMinute: number;
}

/** Header names of an sr25519-signed request. */
export const SIGNED_HEADERS = Object.freeze({
  hotkey: 'x-zkinfer-hotkey',
  timestamp: 'x-zkinfer-timestamp',
  signature: 'x-zkinfer-signature',
});

/**
 * What a caller signs: method, path, a millisecond timestamp and the sha3-256 of the body, with a
 * prefix no synapse message has (a signature made for a miner never reads as a gateway request).
 */
export function gatewaySigningMessage(
  method: string,
  path: string,
  timestampMs: string,
  body: string,
): string {
  return `zkinfer-gateway/1.${timestampMs}.${method.toUpperCase()}.${path}.${bodyHash(body)}`;
}

/**
 * Authenticates a request by API key (`Authorization: Bearer <key>` or `x-api-key`) or by sr25519
 * signature; without either, the open quota when the gateway allows it. 401: no or unknown
 * credentials, bad signature, stale timestamp, replayed signature; 403: a revoked key or a hotkey
 * this gateway does not serve.
 */
export class Authenticator {
  /** Signatures seen within the window: a captured signed request cannot be sent twice. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly config: GatewayAuthConfig,
    private readonly store: GatewayStore,
  ) {}

  async authenticate(
    header: (name: string) => string | undefined,
    method: string,
    path: string,
    body: string,
    nowMs = Date.now(),
  ): Promise<Caller> {
    const authorization = header('authorization');
    const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (authorization !== undefined && bearer === undefined)
      throw new GatewayError('UNAUTHORIZED', 'the Authorization header must be "Bearer <API key>"');
    const key = bearer ?? header('x-api-key');
    if (key !== undefined) {
      const record = this.store.keyByHash(keyHash(key));
      if (!record) throw new GatewayError('UNAUTHORIZED', 'unknown API key');
      if (record.revokedAt)
        throw new GatewayError('FORBIDDEN', `API key ${record.id} was revoked at ${record.revokedAt}`);
      return { id: `key:${record.id}`, quotaPerMinute: record.quotaPerMinute };
    }
    const hotkey = header(SIGNED_HEADERS.hotkey);
    if (hotkey !== undefined) return this.signed(hotkey, header, method, path, body, nowMs);
    if (this.config.open) return { id: 'open', quotaPerMinute: this.config.openQuotaPerMinute };
    throw new GatewayError(
      'UNAUTHORIZED',
      `this gateway needs an API key (Authorization: Bearer <key>) or a request signed by an allowed hotkey (${SIGNED_HEADERS.hotkey}, ${SIGNED_HEADERS.timestamp}, ${SIGNED_HEADERS.signature})`,
    );
  }

  private async signed(
    hotkey: string,
    header: (name: string) => string | undefined,
    method: string,
    path: string,
    body: string,
    nowMs: number,
  ): Promise<Caller> {
    const ts = header(SIGNED_HEADERS.timestamp) ?? '';
    const signature = header(SIGNED_HEADERS.signature) ?? '';
    if (!/^[0-9]{1,16}$/.test(ts))
      throw new GatewayError(
        'UNAUTHORIZED',
        `${SIGNED_HEADERS.timestamp} must be milliseconds since the epoch`,
      );
    const skew = Math.abs(nowMs - Number(ts));
    if (skew > this.config.signatureWindowMs)
      throw new GatewayError(
        'UNAUTHORIZED',
        `the signed timestamp is ${skew} ms from the gateway's clock (at most ${this.config.signatureWindowMs} ms)`,
      );
    if (!(await verifySignature(gatewaySigningMessage(method, path, ts, body), signature, hotkey)))
      throw new GatewayError('UNAUTHORIZED', `the signature is not ${hotkey}'s over this request`);
    for (const [s, until] of this.seen) if (until < nowMs) this.seen.delete(s);
    if (this.seen.has(signature))
      throw new GatewayError('UNAUTHORIZED', 'this signed request was already used');
    const allowed = this.config.hotkeys.find((h) => h.ss58 === hotkey);
    if (!allowed) throw new GatewayError('FORBIDDEN', `hotkey ${hotkey} may not use this gateway`);
    this.seen.set(signature, nowMs + 2 * this.config.signatureWindowMs);
    return { id: `hotkey:${hotkey}`, quotaPerMinute: allowed.quotaPerMinute };
  }
}
