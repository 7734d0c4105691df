import { compactFromU8a, hexToU8a, u8aToHex } from '@polkadot/util';
import { xxhashAsHex } from '@polkadot/util-crypto';
import { SubtensorError } from '../subtensorClient.ts';
import type { ChainRpc } from './chainRpc.ts';

/** One validator's weights row: the uids it weights and their u16 weights, as the chain stores them. */
export interface WeightsRow {
  readonly uid: number;
  readonly weights: readonly { readonly uid: number; readonly weight: number }[];
}

/** Keys per state_getKeysPaged page, as the SDK asks. */
const PAGE = 100;

/** SubtensorModule.Weights(netuid, uid): a double map with Identity hashers over u16 keys. */
export function weightsPrefix(netuid: number): string {
  const u16 = u8aToHex(new Uint8Array([netuid & 0xff, netuid >> 8])).slice(2);
  return `${xxhashAsHex('SubtensorModule', 128)}${xxhashAsHex('Weights', 128).slice(2)}${u16}`;
}

/** Vec<(u16, u16)> in SCALE: a compact length, then little-endian pairs. */
export function decodeWeightsValue(hex: string): WeightsRow['weights'] {
  const bytes = hexToU8a(hex);
  const [offset, length] = compactFromU8a(bytes);
  const n = Number(length);
  if (bytes.length !== offset + 4 * n)
    throw new SubtensorError(
      'DecodeFailed',
      `a Weights value of ${bytes.length} bytes does not hold ${n} (u16, u16) pairs`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 4 * n);
  return Array.from({ length: n }, (_, i) => ({
    uid: view.getUint16(4 * i, true),
    weight: view.getUint16(4 * i + 2, true),
  }));
}

/**
 * Every weights row of a subnet at block `at` (a hash), read from storage as the SDK reads it: the
 * keys under the subnet's prefix page by page, then their values, rows ordered by uid.
 */
export async function readWeights(rpc: ChainRpc, netuid: number, at: string): Promise<WeightsRow[]> {
  const prefix = weightsPrefix(netuid);
  const keys: string[] = [];
  for (let start = prefix; ; ) {
    const page = await rpc.send<string[]>('state_getKeysPaged', [prefix, PAGE, start, at]);
    keys.push(...page);
    if (page.length < PAGE) break;
    start = page[page.length - 1]!;
  }
  const rows: WeightsRow[] = [];
  for (let i = 0; i < keys.length; i += PAGE) {
    const chunk = keys.slice(i, i + PAGE);
    const sets = await rpc.send<{ changes: [string, string | null][] }[]>('state_queryStorageAt', [
      chunk,
      at,
    ]);
    for (const [key, value] of sets.flatMap((s) => s.changes)) {
      if (value === null) continue;
      const suffix = hexToU8a(key).subarray(hexToU8a(prefix).length);
      if (suffix.length !== 2)
        throw new SubtensorError('DecodeFailed', `a Weights key ${key} does not end in a u16 uid`);
      rows.push({ uid: suffix[0]! | (suffix[1]! << 8), weights: decodeWeightsValue(value) });
    }
  }
  return rows.sort((a, b) => a.uid - b.uid);
}
