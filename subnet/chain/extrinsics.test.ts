import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blake2b } from '@noble/hashes/blake2b';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import * as sr25519 from '@scure/sr25519';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Hotkey, hotkeyFromUri } from '../../protocol/keys.ts';
import { FINNEY_DIR } from '../../test/helpers/replayRpcServer.ts';
import {
  axonEndpoint,
  checkWeights,
  Extrinsics,
  normaliseWeights,
  type SigningContext,
} from './extrinsics.ts';
import { RuntimeApis } from './runtimeApis.ts';

let apis: RuntimeApis;
let x: Extrinsics;
let key: Hotkey;
// finney's genesis and a recorded block (6852690) with the runtime of the recorded metadata
const ctx: SigningContext = {
  nonce: 7,
  genesisHash: '0x2f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c03',
  blockNumber: 6852690,
  blockHash: '0xdb13c066e2c63969f140164fb3bfe7a0aaa7b71407fc0fe525d68e57329ef9d0',
  specVersion: 320,
  transactionVersion: 1,
};

beforeAll(async () => {
  apis = RuntimeApis.fromMetadataAtVersion(
    readFileSync(join(FINNEY_DIR, 'metadata-at-version.hex'), 'utf8').trim(),
  );
  x = new Extrinsics(apis);
  key = await hotkeyFromUri('//ZkinferChainTest');
});

/** Decodes a signed extrinsic and checks its signature with another sr25519 implementation. */
function decodeAndVerify(hex: string) {
  const r = apis.registry;
  const ext = r.createType('Extrinsic', hexToU8a(hex));
  const payload = r
    .createType(
      'ExtrinsicPayload',
      {
        method: ext.method.toHex(),
        era: ext.era,
        nonce: ext.nonce,
        tip: ext.tip,
        mode: 0,
        specVersion: ctx.specVersion,
        transactionVersion: ctx.transactionVersion,
        genesisHash: ctx.genesisHash,
        blockHash: ctx.blockHash,
      },
      { version: 4 },
    )
    .toU8a({ method: true });
  // substrate signs the payload itself, or its blake2-256 when longer than 256 bytes
  const message = payload.length > 256 ? blake2b(payload, { dkLen: 32 }) : payload;
  const ok = sr25519.verify(message, ext.signature.toU8a(), key.publicKey);
  return { ext, ok };
}

describe('extrinsics from the runtime metadata', () => {
  it('set_weights: the call index and arguments decode back; the signature verifies independently', () => {
    const call = x.setWeights(23, [0, 5, 9], [65535, 1200, 7], 42);
    expect(u8aToHex(call.callIndex)).toBe('0x0700');
    const { ext, ok } = decodeAndVerify(x.sign(call, key, ctx));
    expect(ok).toBe(true);
    expect(ext.isSigned).toBe(true);
    expect(ext.signer.toString()).toBe(key.ss58);
    expect(ext.nonce.toNumber()).toBe(7);
    expect(ext.era.asMortalEra.birth(ctx.blockNumber)).toBeLessThanOrEqual(ctx.blockNumber);
    expect(`${ext.method.section}.${ext.method.method}`).toBe('subtensorModule.setWeights');
    expect(ext.method.toJSON()).toMatchObject({
      args: { netuid: 23, dests: [0, 5, 9], weights: [65535, 1200, 7], version_key: 42 },
    });
  });

  it('a tampered extrinsic no longer verifies', () => {
    const hex = x.sign(x.setWeights(23, [1], [65535], 0), key, ctx);
    const bytes = hexToU8a(hex);
    bytes[bytes.length - 3]! ^= 1; // in the call's last argument (the version key)
    expect(decodeAndVerify(u8aToHex(bytes)).ok).toBe(false);
  });

  it('serve_axon: IPv4 and IPv6 addresses as u128, port, ip type', () => {
    const v4 = decodeAndVerify(x.sign(x.serveAxon(1, 'http://192.222.59.109:6028', 1), key, ctx));
    expect(v4.ok).toBe(true);
    expect(v4.ext.method.toJSON()).toMatchObject({
      args: { netuid: 1, version: 1, ip: 0xc0de3b6d, port: 6028, ip_type: 4, protocol: 4 },
    });
    const v6 = x.serveAxon(1, 'http://[2001:db8::1]:8091', 1).toJSON() as {
      args: { ip: string; ip_type: number };
    };
    expect(BigInt(v6.args.ip)).toBe(0x20010db8000000000000000000000001n);
    expect(v6.args.ip_type).toBe(6);
  });

  it('burned_register names the hotkey', () => {
    const { ext, ok } = decodeAndVerify(x.sign(x.burnedRegister(23, key.ss58), key, ctx));
    expect(ok).toBe(true);
    expect(`${ext.method.section}.${ext.method.method}`).toBe('subtensorModule.burnedRegister');
    expect(ext.method.toHuman()).toMatchObject({ args: { netuid: '23', hotkey: key.ss58 } });
  });
});

describe('weights and axon addresses (pure)', () => {
  it('normalises weights as the SDK does: largest 65535, zeros dropped', () => {
    expect(normaliseWeights([0, 1, 2, 3], [0.5, 0.25, 0, 1e-9])).toEqual({
      uids: [0, 1],
      weights: [65535, 32768],
    });
    expect(normaliseWeights([4], [0])).toEqual({ uids: [], weights: [] });
    expect(() => normaliseWeights([1, 2], [1])).toThrow(/WeightVecNotEqualSize/);
    expect(() => normaliseWeights([1], [Number.NaN])).toThrow(/InvalidWeight/);
  });

  it("refuses what the chain would refuse, by the chain's error names", () => {
    const rules = {
      neurons: 10,
      minAllowedWeights: 2,
      commitRevealWeightsEnabled: false,
      weightsRateLimit: 100,
      lastUpdate: 1000,
      currentBlock: 1200,
    };
    const w = { uids: [1, 2], weights: [65535, 3] };
    expect(() => checkWeights(w, rules)).not.toThrow();
    expect(() => checkWeights(w, { ...rules, commitRevealWeightsEnabled: true })).toThrow(
      /^CommitRevealEnabled:/,
    );
    expect(() => checkWeights({ uids: [1, 12], weights: [1, 1] }, rules)).toThrow(
      /^UidVecContainInvalidOne:/,
    );
    expect(() => checkWeights({ uids: [1, 1], weights: [1, 1] }, rules)).toThrow(/^DuplicateUids:/);
    expect(() => checkWeights({ uids: [1], weights: [1] }, rules)).toThrow(/^WeightVecLengthIsLow:/);
    expect(() => checkWeights(w, { ...rules, currentBlock: 1050 })).toThrow(
      /^SettingWeightsTooFast: last set 50 blocks ago/,
    );
  });

  it('reads axon URLs; host names are refused (the chain records an IP)', () => {
    expect(axonEndpoint('http://127.0.0.1:8091')).toEqual({ ip: 0x7f000001n, port: 8091, ipType: 4 });
    expect(axonEndpoint('http://[::1]:9')).toEqual({ ip: 1n, port: 9, ipType: 6 });
    expect(() => axonEndpoint('http://miner.example:8091')).toThrow(/not a host name/);
    expect(() => axonEndpoint('http://300.1.1.1:1')).toThrow(/^InvalidIpAddress:/);
  });
});
