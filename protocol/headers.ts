import type { SignedFields } from './signing.ts';

/** No request waits longer than an hour; larger values would overflow Node's timers. */
export const MAX_TIMEOUT_SECONDS = 3600;

/** Bittensor axon/dendrite header names (lower-case, as HTTP delivers them). */
export const HEADERS = Object.freeze({
  name: 'name',
  timeout: 'timeout',
  bodyHash: 'computed_body_hash',
  dendriteHotkey: 'bt_header_dendrite_hotkey',
  dendriteNonce: 'bt_header_dendrite_nonce',
  dendriteUuid: 'bt_header_dendrite_uuid',
  dendriteSignature: 'bt_header_dendrite_signature',
  dendriteVersion: 'bt_header_dendrite_version',
  axonHotkey: 'bt_header_axon_hotkey',
  /** On answers: the request's nonce, which the axon's signature covers. */
  axonNonce: 'bt_header_axon_nonce',
  axonSignature: 'bt_header_axon_signature',
});

export interface DendriteHeaders extends SignedFields {
  readonly signature: string;
  readonly timeoutSeconds: number;
}

/** Reads the signed headers; returns a reason string when one is missing or malformed (→ 400). */
export function parseDendriteHeaders(get: (name: string) => string | undefined): DendriteHeaders | string {
  const need = (name: string) => get(name)?.trim() ?? '';
  const nonce = need(HEADERS.dendriteNonce);
  const dendriteHotkey = need(HEADERS.dendriteHotkey);
  const uuid = need(HEADERS.dendriteUuid);
  const signature = need(HEADERS.dendriteSignature);
  const bodyHash = need(HEADERS.bodyHash);
  if (!/^[0-9]{1,30}$/.test(nonce)) return `${HEADERS.dendriteNonce} must be a decimal nanosecond timestamp`;
  if (!dendriteHotkey) return `${HEADERS.dendriteHotkey} is missing`;
  if (!uuid || uuid.length > 64) return `${HEADERS.dendriteUuid} is missing or too long`;
  if (!/^[0-9a-f]{64}$/.test(bodyHash))
    return `${HEADERS.bodyHash} must be the sha3-256 of the body (64 hex digits)`;
  const timeout = get(HEADERS.timeout);
  const timeoutSeconds = timeout === undefined ? 12 : Number(timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > MAX_TIMEOUT_SECONDS)
    return `${HEADERS.timeout} must be a number of seconds in (0, ${MAX_TIMEOUT_SECONDS}]`;
  return {
    nonce,
    dendriteHotkey,
    axonHotkey: get(HEADERS.axonHotkey) ?? '',
    uuid,
    bodyHash,
    signature,
    timeoutSeconds,
  };
}
