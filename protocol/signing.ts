import { sha3_256 } from '@noble/hashes/sha3';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';

/** sha3-256 of the raw request body, hex: the value of the computed_body_hash header. */
export function bodyHash(body: Uint8Array | string): string {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return Buffer.from(sha3_256(bytes)).toString('hex');
}

export interface SignedFields {
  readonly nonce: string;
  readonly dendriteHotkey: string;
  readonly axonHotkey: string;
  readonly uuid: string;
  readonly bodyHash: string;
}

/** The message Bittensor's dendrite signs: "{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}". */
export function signingMessage(f: SignedFields): string {
  return `${f.nonce}.${f.dendriteHotkey}.${f.axonHotkey}.${f.uuid}.${f.bodyHash}`;
}

/**
 * The message an axon signs over its answer: the request's nonce, both hotkeys and uuid, and the
 * sha3-256 of the answer's body. The "answer." prefix keeps it from ever reading as a request
 * message; the request's nonce ties the answer to that one request (a signed answer replayed for
 * another request fails).
 */
export function answerSigningMessage(f: SignedFields): string {
  return `answer.${signingMessage(f)}`;
}

/** sr25519 verification. An empty or malformed signature never passes (unlike the Python SDK's empty case). */
export async function verifySignature(message: string, signature: string, ss58: string): Promise<boolean> {
  if (!/^0x[0-9a-fA-F]{128}$/.test(signature) || ss58.length === 0) return false;
  await cryptoWaitReady();
  try {
    return signatureVerify(message, signature, ss58).isValid;
  } catch {
    return false;
  }
}
