import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactFromU8a, compactToU8a, hexToU8a, u8aToHex } from '@polkadot/util';
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zkinferInProcess } from '../../test/helpers/cli.ts';
import { FINNEY_DIR, type ReplayServer, startReplayServer } from '../../test/helpers/replayRpcServer.ts';
import { SubtensorError } from '../subtensorClient.ts';
import { axonUrl } from './chainNeurons.ts';
import { ChainSubtensor, GENESIS } from './chainSubtensor.ts';
import { decodeWeightsValue, weightsPrefix } from './chainWeights.ts';

// Real finney answers (recorded by the Python SDK's tooling), served by a local WebSocket JSON-RPC server.
const recorded = JSON.parse(readFileSync(join(FINNEY_DIR, 'responses.json'), 'utf8')) as Record<
  string,
  Record<string, Record<string, { result: string }>>
>;
const raw = (op: string, method: string, params: string) => hexToU8a(recorded[op]![method]![params]!.result);
/** The bytes a Vec<u8>-wrapped answer carries. */
const unwrapBytes = (b: Uint8Array) => b.subarray(compactFromU8a(b)[0]);
const contains = (hay: Uint8Array, needle: Uint8Array) => u8aToHex(hay).includes(u8aToHex(needle).slice(2));

const WEIGHTS_HASH = '0x1b3f85dc8c83cada6d1782c955973a509a37c62af3d6ba29f5fd816aee37eb3b';
const WEIGHTS_BLOCK = 0x31ce9e;

let server: ReplayServer;
beforeAll(async () => {
  server = await startReplayServer({
    '["chain_getBlockHash",[0]]': GENESIS['finney'],
    // the recording holds this block's header (number 0x31ce9e) and its Weights storage, read by
    // hash; the number → hash lookup a client makes first is stated here from that header
    [`["chain_getBlockHash",[${WEIGHTS_BLOCK}]]`]: WEIGHTS_HASH,
  });
});
afterAll(async () => {
  await server?.close();
});

describe('ChainSubtensor on recorded finney answers', () => {
  it('reads the neurons of netuid 23 at the head: the count and keys the chain returned', async () => {
    const chain = await ChainSubtensor.connect({ network: server.url, netuid: 23 });
    try {
      const mg = await chain.metagraph();
      const bytes = unwrapBytes(
        raw('neurons_lite', 'state_call', '["NeuronInfoRuntimeApi_get_neurons_lite", "0x1700"]'),
      );
      const [, count] = compactFromU8a(bytes);
      expect(mg.neurons).toHaveLength(Number(count));
      expect(mg.neurons).toHaveLength(19);
      expect(mg.block).toBe(6553223);
      // the first neuron's hotkey and coldkey are the first 64 bytes after the count, shown in SS58 (prefix 42)
      const first = bytes.subarray(compactFromU8a(bytes)[0]);
      expect(mg.neurons[0]!.hotkey).toBe(encodeAddress(first.subarray(0, 32), 42));
      expect(mg.neurons[0]!.coldkey).toBe(encodeAddress(first.subarray(32, 64), 42));
      expect(mg.neurons.map((n) => n.uid)).toEqual([...Array(19).keys()]);
      // stake: the staker's account followed by the compact rao amount
      const n0 = mg.neurons[0]!;
      expect(n0.stake).toBeCloseTo(2_999_000 / 1e9, 12);
      expect(contains(first, compactToU8a(2_999_000n))).toBe(true);
      expect(n0.validatorPermit).toBe(true);
    } finally {
      await chain.close();
    }
  });

  it('reads the metagraph of netuid 1 at block 6852690: 1024 neurons, axons decoded from their u128 IPs', async () => {
    const chain = await ChainSubtensor.connect({ network: server.url, netuid: 1 });
    try {
      const mg = await chain.metagraph(6852690);
      expect(mg.block).toBe(6852690);
      expect(mg.neurons).toHaveLength(1024);
      const n0 = mg.neurons[0]!;
      expect(n0.axon).toEqual({ url: 'http://192.222.59.109:6028' });
      // in the raw answer: ip as u128 little-endian, then port u16 and ip type 4
      const key = Object.keys(recorded['metagraph']!['state_call']!).find((k) =>
        k.includes('get_neurons_lite'),
      )!;
      const bytes = raw('metagraph', 'state_call', key);
      const ip = new Uint8Array(16);
      new DataView(ip.buffer).setUint32(0, (192 << 24) | (222 << 16) | (59 << 8) | 109, true);
      expect(contains(bytes, new Uint8Array([...ip, 6028 & 255, 6028 >> 8, 4]))).toBe(true);
      expect(contains(bytes, decodeAddress(n0.hotkey))).toBe(true);
      expect(mg.neurons.filter((n) => n.validatorPermit).length).toBe(12);
      expect(mg.neurons.filter((n) => n.axon).length).toBe(827);
    } finally {
      await chain.close();
    }
  });

  it('reads the hyperparameters of netuid 23, with subtensor defaults for fields this runtime lacks', async () => {
    const chain = await ChainSubtensor.connect({ network: server.url, netuid: 23 });
    try {
      const h = await chain.hyperparameters();
      expect(h).toMatchObject({
        tempo: 1000,
        immunityPeriod: 5000,
        minAllowedWeights: 1,
        maxWeightLimit: 65535,
        weightsRateLimit: 100,
        weightsVersionKey: 0,
        activityCutoff: 5000,
        maxAllowedValidators: 64,
        kappa: 32767,
        bondsMovingAverage: 900_000,
        commitRevealWeightsEnabled: false,
        liquidAlpha: false,
      });
      const bytes = raw(
        'get_subnet_hyperparameters',
        'state_call',
        '["SubnetInfoRuntimeApi_get_subnet_hyperparams", "0x1700"]',
      );
      expect(contains(bytes, compactToU8a(1000))).toBe(true); // tempo
    } finally {
      await chain.close();
    }
  });

  it('reads the weights of netuid 23 from storage: the keys under the subnet prefix and their (uid, u16) pairs', async () => {
    const header = recorded['weights']!['chain_getHeader']![`["${WEIGHTS_HASH}"]`] as unknown as {
      result: { number: string };
    };
    expect(Number.parseInt(header.result.number, 16)).toBe(WEIGHTS_BLOCK);
    // the storage prefix is derived here (xxhash of the pallet and item, the netuid's u16) and must
    // be the one the SDK asked the chain for
    const prefix = weightsPrefix(23);
    const paged = Object.keys(recorded['weights']!['state_getKeysPaged']!).map(
      (p) => JSON.parse(p) as string[],
    );
    expect(paged.map((p) => p[0])).toEqual([prefix, prefix]);
    const chain = await ChainSubtensor.connect({ network: server.url, netuid: 23 });
    try {
      const w = await chain.weights(WEIGHTS_BLOCK);
      // one row: uid 10 (key suffix 0x0a00) weighting itself fully (value 0x04 0a00 ffff)
      const stored = recorded['weights']!['state_queryStorageAt']!;
      const [[key, value]] = (Object.values(stored)[0] as unknown as { result: { changes: string[][] }[] })
        .result[0]!.changes as [[string, string]];
      expect(key).toBe(`${prefix}0a00`);
      expect(value).toBe('0x040a00ffff');
      expect(w).toEqual({ block: WEIGHTS_BLOCK, rows: [{ uid: 10, weights: [{ uid: 10, weight: 65535 }] }] });
    } finally {
      await chain.close();
    }
    expect(decodeWeightsValue('0x080100ff7f0200ff7f')).toEqual([
      { uid: 1, weight: 32767 },
      { uid: 2, weight: 32767 },
    ]);
    expect(() => decodeWeightsValue('0x080100ff7f')).toThrow(/does not hold 2 \(u16, u16\) pairs/);
  });

  it('caches reads per block: two metagraph reads at one head cost one runtime call', async () => {
    const chain = await ChainSubtensor.connect({ network: server.url, netuid: 23 });
    try {
      const before = server.requests.filter((r) => r.method === 'state_call').length;
      await chain.metagraph();
      await chain.metagraph();
      expect(server.requests.filter((r) => r.method === 'state_call').length - before).toBe(1);
    } finally {
      await chain.close();
    }
  });

  it('retries a read after a dropped connection', async () => {
    const chain = await ChainSubtensor.connect({ network: server.url, netuid: 1 });
    try {
      server.dropConnections();
      expect((await chain.metagraph(6852690)).neurons).toHaveLength(1024);
    } finally {
      await chain.close();
    }
  });

  it('says in one line what is wrong: unreachable, another network, a runtime without metadata V15', async () => {
    const unreachable = await ChainSubtensor.connect({
      network: 'ws://127.0.0.1:1',
      netuid: 1,
      timeoutMs: 1500,
    }).catch((e) => e);
    expect(unreachable).toBeInstanceOf(SubtensorError);
    expect(unreachable.message).toMatch(/^ChainUnreachable: cannot reach the chain at ws:\/\/127\.0\.0\.1:1/);
    const wrong = await ChainSubtensor.connect({
      network: server.url,
      netuid: 1,
      genesisHash: GENESIS['test']!,
    }).catch((e) => e);
    expect(wrong.message).toMatch(/^WrongNetwork: .* is a chain with genesis 0x2f0555cc/);
    const noV15 = await startReplayServer({
      '["state_call",["Metadata_metadata_at_version","0x0f000000"]]': '0x00',
    });
    try {
      const old = await ChainSubtensor.connect({ network: noV15.url, netuid: 1 }).catch((e) => e);
      expect(old.message).toMatch(/^MetadataMissing: the chain has no metadata V15/);
    } finally {
      await noV15.close();
    }
    for (const e of [unreachable, wrong]) expect(e.message).not.toContain('\n');
  });

  it("zkinfer subnet status --network prints the chain's metagraph as it does the local one", async () => {
    const r = await zkinferInProcess(
      'subnet',
      'status',
      '--network',
      server.url,
      '--netuid',
      '1',
      '--block',
      '6852690',
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('block 6852690, 1024 neurons');
    expect(lines[1]).toMatch(/^uid +hotkey +stake +permit/);
    expect(lines[2]).toMatch(/^0 +5DkMmXtWf16RNdus +2\.557172316 +no /);
    const json = await zkinferInProcess(
      '--json',
      'subnet',
      'status',
      '--network',
      server.url,
      '--netuid',
      '23',
    );
    expect(JSON.parse(json.stdout).neurons).toHaveLength(19);
    const both = await zkinferInProcess('subnet', 'status', '--network', server.url);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('subnet status --network needs --netuid <n>');
  });

  it('turns an axon IP into a URL (IPv4, IPv6, none)', () => {
    expect(axonUrl(0n, 4, 8091)).toBeNull();
    expect(axonUrl(BigInt(0x7f000001), 4, 8091)).toBe('http://127.0.0.1:8091');
    expect(axonUrl(1n, 6, 443)).toBe('http://[0:0:0:0:0:0:0:1]:443');
  });
});
