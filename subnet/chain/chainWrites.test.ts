import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactToU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Hotkey, hotkeyFromUri } from '../../protocol/keys.ts';
import { FINNEY_DIR, type ReplayServer, startReplayServer } from '../../test/helpers/replayRpcServer.ts';
import { SubtensorError } from '../subtensorClient.ts';
import { ChainSubtensor, GENESIS } from './chainSubtensor.ts';
import { systemEventsKey } from './extrinsicOutcome.ts';
import { RuntimeApis } from './runtimeApis.ts';

// Reads come from recorded finney answers; the transaction pool and the including block are a
// stand-in (no recording holds a submission), with events encoded in the runtime's own types.
const apis = RuntimeApis.fromMetadataAtVersion(
  readFileSync(join(FINNEY_DIR, 'metadata-at-version.hex'), 'utf8').trim(),
);
const recorded = JSON.parse(readFileSync(join(FINNEY_DIR, 'responses.json'), 'utf8')) as Record<
  string,
  Record<string, Record<string, { result: unknown }>>
>;
const runtimeVersion = Object.values(recorded['neurons_lite']!['state_getRuntimeVersion']!)[0]!.result;
const BLOCK = `0x${'ab'.repeat(32)}`;

/** System.Events of a block whose extrinsic 1 succeeded, or failed with SubtensorModule's `error`. */
function events(error?: string): string {
  const r = apis.registry;
  const pallet = (name: string) => apis.metadata.asV15.pallets.find((p) => p.name.toString() === name)!;
  const system = pallet('System');
  // System's own event enum, encoded from its metadata type; the runtime event is its pallet index + that
  const systemEvent = r.createLookupType(system.events.unwrap().type.toNumber());
  let data: unknown = { ExtrinsicSuccess: {} };
  if (error) {
    const index = pallet('SubtensorModule').index.toNumber();
    const code = [...Array(256).keys()].find(
      (i) =>
        r.findMetaError({
          index: r.createType('u8', index),
          error: r.createType('[u8;4]', [i, 0, 0, 0]),
        } as never).name === error,
    )!;
    data = { ExtrinsicFailed: { dispatchError: { Module: { index, error: [code, 0, 0, 0] } } } };
  }
  const record = u8aConcat(
    r.createType('u8', 0).toU8a(), // Phase::ApplyExtrinsic
    r.createType('u32', 1).toU8a(), // extrinsic 1
    new Uint8Array([system.index.toNumber()]),
    r.createType(systemEvent, data).toU8a(),
    compactToU8a(0), // no topics
  );
  return u8aToHex(u8aConcat(compactToU8a(1), record));
}

/** The error a call that must fail rejects with. */
const failure = (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: Error) => e,
  );

let server: ReplayServer;
let key: Hotkey;
let submitted: string[] = [];
let chainAnswer: { events: string } | { refuse: unknown } = { events: events() };

beforeAll(async () => {
  key = await hotkeyFromUri('//ZkinferChainWriter');
  server = await startReplayServer(
    { '["chain_getBlockHash",[0]]': GENESIS['finney'] },
    (method, params, notify) => {
      if (method === 'state_getRuntimeVersion' && params.length === 0) return { result: runtimeVersion };
      if (method === 'system_accountNextIndex') return { result: 3 };
      if (method === 'author_submitAndWatchExtrinsic') {
        if ('refuse' in chainAnswer) return { error: chainAnswer.refuse };
        submitted.push(params[0] as string);
        notify('author_extrinsicUpdate', 'sub-1', 'ready');
        notify('author_extrinsicUpdate', 'sub-1', { inBlock: BLOCK });
        return { result: 'sub-1' };
      }
      if (method === 'author_unwatchExtrinsic') return { result: true };
      if (method === 'chain_getBlock' && params[0] === BLOCK)
        return { result: { block: { header: {}, extrinsics: ['0x280402000b', submitted.at(-1)] } } };
      if (
        method === 'state_getStorage' &&
        params[0] === systemEventsKey(apis) &&
        params[1] === BLOCK &&
        'events' in chainAnswer
      )
        return { result: chainAnswer.events };
      return undefined;
    },
  );
});
afterAll(async () => {
  await server?.close();
});

const open = (signer = key) =>
  ChainSubtensor.connect({ network: server.url, netuid: 23, signer, genesisHash: GENESIS['finney']! });

describe('ChainSubtensor writes', () => {
  it('serve_axon: signed, submitted once, followed into a block whose events say it applied', async () => {
    const chain = await open();
    try {
      submitted = [];
      chainAnswer = { events: events() };
      await chain.serveAxon(key.ss58, 'http://203.0.113.7:8091');
      expect(submitted).toHaveLength(1);
      const ext = apis.registry.createType('Extrinsic', hexToU8a(submitted[0]!));
      expect(ext.signer.toString()).toBe(key.ss58);
      expect(ext.nonce.toNumber()).toBe(3);
      expect(ext.method.toJSON()).toMatchObject({ args: { netuid: 23, port: 8091, ip_type: 4 } });
    } finally {
      await chain.close();
    }
  });

  it("names the chain's error when the block says the extrinsic failed", async () => {
    const chain = await open();
    try {
      chainAnswer = { events: events('TooManyRegistrationsThisBlock') };
      const e = await failure(chain.burnedRegister(key.ss58));
      expect(e).toBeInstanceOf(SubtensorError);
      expect((e as SubtensorError).chainError).toBe('TooManyRegistrationsThisBlock');
      expect((e as Error).message).toMatch(/^TooManyRegistrationsThisBlock: subtensorModule: /);
    } finally {
      await chain.close();
    }
  });

  it('reports a transaction the pool refuses outright, in one line', async () => {
    const chain = await open();
    try {
      chainAnswer = {
        refuse: { code: 1010, message: 'Invalid Transaction', data: 'Transaction has a bad signature' },
      };
      const e = await failure(chain.serveAxon(key.ss58, 'http://203.0.113.7:8091'));
      expect(e.message).toMatch(/^InvalidTransaction: .*Invalid Transaction/);
    } finally {
      await chain.close();
    }
  });

  it('checks set_weights against the recorded metagraph before sending anything', async () => {
    const chain = await open();
    try {
      const before = server.requests.filter((r) => r.method === 'author_submitAndWatchExtrinsic').length;
      const e = await failure(chain.setWeights(key.ss58, [0, 1], [1, 1], 0));
      expect(e.message).toMatch(/^HotKeyNotRegisteredInSubNet: /);
      const wrong = await failure(
        chain.setWeights('5G6coSQnHMttZsH5ZmYWAT6Jtg5zPDGxofirgGE4htow1UXD', [0], [1], 0),
      );
      expect(wrong.message).toMatch(/^WrongSigner: /);
      expect(server.requests.filter((r) => r.method === 'author_submitAndWatchExtrinsic').length).toBe(
        before,
      );
    } finally {
      await chain.close();
    }
  });
});
