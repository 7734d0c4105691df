import type { Call } from '@polkadot/types/interfaces';
import { expandMetadata } from '@polkadot/types/metadata';
import type { IKeyringPair } from '@polkadot/types/types';
import { u8aConcat } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import type { Hotkey } from '../../protocol/keys.ts';
import { SubtensorError } from '../subtensorClient.ts';
import type { RuntimeApis } from './runtimeApis.ts';

const U16_MAX = 65535;

/**
 * Weights as subtensor takes them, the SDK's way: scaled so the largest is 65535, rounded, zeros
 * dropped (a zero weight is no weight). Pure.
 */
export function normaliseWeights(
  uids: readonly number[],
  weights: readonly number[],
): { uids: number[]; weights: number[] } {
  if (uids.length !== weights.length)
    throw new SubtensorError('WeightVecNotEqualSize', `${uids.length} uids, ${weights.length} weights`);
  const bad = weights.findIndex((w) => !Number.isFinite(w) || w < 0);
  if (bad >= 0)
    throw new SubtensorError(
      'InvalidWeight',
      `weight ${bad} is ${weights[bad]}; weights are finite and >= 0`,
    );
  const max = Math.max(0, ...weights);
  const out = { uids: [] as number[], weights: [] as number[] };
  if (max === 0) return out;
  uids.forEach((uid, i) => {
    const w = Math.round((weights[i]! / max) * U16_MAX);
    if (w > 0) {
      out.uids.push(uid);
      out.weights.push(w);
    }
  });
  return out;
}

/** The subnet's rules a set_weights must pass, checked before anything is sent. */
export interface WeightRules {
  readonly neurons: number;
  readonly minAllowedWeights: number;
  readonly commitRevealWeightsEnabled: boolean;
  readonly weightsRateLimit: number;
  /** The caller's last update and the current block (for the rate limit). */
  readonly lastUpdate: number;
  readonly currentBlock: number;
}

/** Refuses, named as subtensor names the error, weights the chain would refuse. Pure. */
export function checkWeights(
  w: { uids: readonly number[]; weights: readonly number[] },
  rules: WeightRules,
): void {
  if (rules.commitRevealWeightsEnabled)
    throw new SubtensorError(
      'CommitRevealEnabled',
      'this subnet takes only committed (drand-timelocked) weights; zkinfer does not send them yet, and plain weights would be refused',
    );
  const seen = new Set<number>();
  for (const uid of w.uids) {
    if (uid >= rules.neurons)
      throw new SubtensorError(
        'UidVecContainInvalidOne',
        `uid ${uid}: the subnet has ${rules.neurons} neurons`,
      );
    if (seen.has(uid)) throw new SubtensorError('DuplicateUids', `uid ${uid} appears twice`);
    seen.add(uid);
  }
  if (w.uids.length < Math.min(rules.minAllowedWeights, rules.neurons))
    throw new SubtensorError(
      'WeightVecLengthIsLow',
      `${w.uids.length} non-zero weights, the subnet needs ${rules.minAllowedWeights}`,
    );
  const since = rules.currentBlock - rules.lastUpdate;
  if (rules.lastUpdate > 0 && since < rules.weightsRateLimit)
    throw new SubtensorError(
      'SettingWeightsTooFast',
      `last set ${since} blocks ago; the subnet allows one every ${rules.weightsRateLimit} blocks`,
    );
}

/** An axon address as serve_axon takes it: ip as u128, port, ip type (4 or 6). Pure. */
export function axonEndpoint(url: string): { ip: bigint; port: number; ipType: 4 | 6 } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SubtensorError('InvalidIpAddress', `"${url}" is not a URL`);
  }
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255))
      throw new SubtensorError('InvalidIpAddress', `${host} is not an IPv4 address`);
    return { ip: BigInt(parts.reduce((a, p) => a * 256 + p, 0)), port, ipType: 4 };
  }
  if (host.includes(':')) {
    const [head, tail] = host.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g)))
      throw new SubtensorError('InvalidIpAddress', `${host} is not an IPv6 address`);
    return { ip: groups.reduce((a, g) => (a << 16n) | BigInt(`0x${g}`), 0n), port, ipType: 6 };
  }
  throw new SubtensorError('InvalidIpAddress', `${host}: the chain records an IP address, not a host name`);
}

/** What an extrinsic's signature commits to besides the call (from the chain at signing time). */
export interface SigningContext {
  readonly nonce: number;
  readonly genesisHash: string;
  /** The block the mortality period starts at, and its hash. */
  readonly blockNumber: number;
  readonly blockHash: string;
  readonly specVersion: number;
  readonly transactionVersion: number;
  /** Blocks the extrinsic stays valid (a power of two, 4..65536; default 64). */
  readonly period?: number;
}

/**
 * SubtensorModule calls built from the runtime's metadata (call indices and argument types are the
 * chain's own), and signed with a hotkey as a v4 extrinsic carrying every signed extension the
 * metadata lists.
 */
export class Extrinsics {
  private readonly tx: Record<string, (...args: unknown[]) => Call>;

  constructor(private readonly apis: RuntimeApis) {
    const pallets = expandMetadata(apis.registry, apis.metadata).tx as unknown as Record<
      string,
      Record<string, (...args: unknown[]) => Call>
    >;
    const subtensor = pallets['subtensorModule'];
    if (!subtensor) throw new SubtensorError('PalletMissing', 'the runtime has no SubtensorModule pallet');
    this.tx = subtensor;
  }

  private call(name: string, args: unknown[]): Call {
    const make = this.tx[name];
    if (!make) throw new SubtensorError('CallMissing', `the runtime's SubtensorModule has no ${name}`);
    return make(...args);
  }

  setWeights(
    netuid: number,
    uids: readonly number[],
    weights: readonly number[],
    versionKey: number | bigint,
  ): Call {
    return this.call('setWeights', [netuid, uids, weights, versionKey]);
  }

  serveAxon(netuid: number, url: string, version: number): Call {
    const { ip, port, ipType } = axonEndpoint(url);
    // protocol 4: plain HTTP (as the SDK's axons); the two placeholders are unused by the chain
    return this.call('serveAxon', [netuid, version, ip, port, ipType, 4, 0, 0]);
  }

  burnedRegister(netuid: number, hotkey: string): Call {
    return this.call('burnedRegister', [netuid, decodeAddress(hotkey)]);
  }

  /** The signed extrinsic, hex, ready for author_submitExtrinsic. */
  sign(call: Call, hotkey: Hotkey, ctx: SigningContext): string {
    const registry = this.apis.registry;
    const signer: IKeyringPair = {
      address: hotkey.ss58,
      addressRaw: hotkey.publicKey,
      publicKey: hotkey.publicKey,
      // a MultiSignature carries its scheme first: 1 = sr25519
      sign: (data, options) =>
        options?.withType ? u8aConcat(new Uint8Array([1]), hotkey.signBytes(data)) : hotkey.signBytes(data),
    };
    const extrinsic = registry.createType('Extrinsic', call, { version: 4 });
    extrinsic.sign(signer, {
      blockHash: ctx.blockHash,
      genesisHash: ctx.genesisHash,
      era: registry.createType('ExtrinsicEra', { current: ctx.blockNumber, period: ctx.period ?? 64 }),
      nonce: ctx.nonce,
      runtimeVersion: {
        specVersion: registry.createType('u32', ctx.specVersion),
        transactionVersion: registry.createType('u32', ctx.transactionVersion),
      } as never,
      signedExtensions: registry.signedExtensions,
      tip: 0,
      mode: 0,
    } as never);
    return extrinsic.toHex();
  }
}
