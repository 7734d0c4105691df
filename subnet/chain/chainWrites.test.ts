import { hexToU8a } from '@polkadot/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Hotkey, hotkeyFromUri } from '../../protocol/keys.ts';
import {
  type ChainStandIn,
  eventsOf,
  finneyApis,
  startChainStandIn,
} from '../../test/helpers/chainStandIn.ts';
import { SubtensorError } from '../subtensorClient.ts';
import { ChainSubtensor, GENESIS } from './chainSubtensor.ts';

// Reads come from recorded finney answers; the transaction pool is a stand-in (test/helpers/chainStandIn.ts).
const apis = finneyApis();

/** The error a call that must fail rejects with. */
const failure = (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: Error) => e,
  );

let standIn: ChainStandIn;
let key: Hotkey;

beforeAll(async () => {
  key = await hotkeyFromUri('//ZkinferChainWriter');
  standIn = await startChainStandIn();
});
afterAll(async () => {
  await standIn?.server.close();
});

const open = (signer = key) =>
  ChainSubtensor.connect({
    network: standIn.server.url,
    netuid: 23,
    signer,
    genesisHash: GENESIS['finney']!,
  });

describe('ChainSubtensor writes', () => {
  it('serve_axon: signed, standIn.submitted once, followed into a block whose events say it applied', async () => {
    const chain = await open();
    try {
      standIn.submitted.length = 0;
      standIn.answer = { events: eventsOf(apis) };
      await chain.serveAxon(key.ss58, 'http://203.0.113.7:8091');
      expect(standIn.submitted).toHaveLength(1);
      const ext = apis.registry.createType('Extrinsic', hexToU8a(standIn.submitted[0]!));
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
      standIn.answer = { events: eventsOf(apis, 'TooManyRegistrationsThisBlock') };
      const coldkey = await hotkeyFromUri('//ZkinferColdkey');
      const e = await failure(chain.burnedRegister(key.ss58, coldkey));
      // the coldkey signed it, for the hotkey
      const ext = apis.registry.createType('Extrinsic', standIn.submitted.at(-1)!);
      expect(ext.signer.toString()).toBe(coldkey.ss58);
      expect(ext.method.toHuman()).toMatchObject({ args: { hotkey: key.ss58 } });
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
      standIn.answer = {
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
      const before = standIn.server.requests.filter(
        (r) => r.method === 'author_submitAndWatchExtrinsic',
      ).length;
      const e = await failure(chain.setWeights(key.ss58, [0, 1], [1, 1], 0));
      expect(e.message).toMatch(/^HotKeyNotRegisteredInSubNet: /);
      const wrong = await failure(
        chain.setWeights('5G6coSQnHMttZsH5ZmYWAT6Jtg5zPDGxofirgGE4htow1UXD', [0], [1], 0),
      );
      expect(wrong.message).toMatch(/^WrongSigner: /);
      expect(
        standIn.server.requests.filter((r) => r.method === 'author_submitAndWatchExtrinsic').length,
      ).toBe(before);
    } finally {
      await chain.close();
    }
  });
});
