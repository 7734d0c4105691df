import { readFile } from 'node:fs/promises';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { InvalidInputError, ZkinferError } from './errors.ts';

/** An sr25519 hotkey: its ss58 address and a signer. */
export interface Hotkey {
  readonly ss58: string;
  readonly publicKey: Uint8Array;
  sign(message: string): string;
  /** An sr25519 signature over raw bytes (64 bytes), e.g. an extrinsic's signing payload. */
  signBytes(data: Uint8Array): Uint8Array;
}

function fromPair(pair: KeyringPair): Hotkey {
  return {
    ss58: pair.address,
    publicKey: pair.publicKey,
    sign: (message) => `0x${Buffer.from(pair.sign(new TextEncoder().encode(message))).toString('hex')}`,
    signBytes: (data) => pair.sign(data),
  };
}

/** A hotkey from a dev URI (e.g. "//Alice") or a mnemonic. WASM crypto works offline after this. */
export async function hotkeyFromUri(uri: string): Promise<Hotkey> {
  await cryptoWaitReady();
  try {
    return fromPair(new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(uri));
  } catch (cause) {
    throw new InvalidInputError(
      `not a valid key URI or mnemonic: ${(cause as Error).message}`,
      'INVALID_OPTION',
    );
  }
}

/**
 * A hotkey from a Bittensor wallet's hotkey file (JSON with secretSeed or secretPhrase, as the
 * Python SDK writes it, unencrypted).
 */
export async function hotkeyFromFile(path: string): Promise<Hotkey> {
  let json: { secretSeed?: string; secretPhrase?: string; ss58Address?: string };
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as typeof json;
  } catch (cause) {
    throw new ZkinferError('IO', `cannot read hotkey file ${path}: ${(cause as Error).message}`, { cause });
  }
  const secret = json.secretPhrase ?? json.secretSeed;
  if (!secret)
    throw new InvalidInputError(
      `${path} has neither secretPhrase nor secretSeed (encrypted keys are not supported)`,
    );
  const key = await hotkeyFromUri(secret);
  if (json.ss58Address && json.ss58Address !== key.ss58) {
    throw new InvalidInputError(
      `${path}: the secret gives ${key.ss58}, but the file says ${json.ss58Address}`,
    );
  }
  return key;
}
