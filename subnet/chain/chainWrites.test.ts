import { hexToU8a } from '@polkadot/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Hotkey, hotkeyFromUri } from '../../protocol/keys.ts';
import {
  type ChainStandIn,
  eventsOf,
  finneyApis,
  startChainStandIn,
} from '../../test/helpers/chainStandIn.ts';
import { zkinferInProcess } from '../../test/helpers/cli.ts';
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
      // a subtensor custom refusal is named (code 12 is ServingRateLimitExceeded)
      standIn.answer = { refuse: { code: 1010, message: 'Invalid Transaction', data: 'Custom error: 12' } };
      const custom = await failure(chain.serveAxon(key.ss58, 'http://203.0.113.7:8091'));
      expect(custom).toMatchObject({ chainError: 'ServingRateLimitExceeded' });
      expect(custom.message).toMatch(
        /^ServingRateLimitExceeded: the transaction pool refused it \(.*Custom error: 12/,
      );
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

  it('zkinfer subnet serve/register --network: sign with the given key, submit, and report the chain in one line', async () => {
    standIn.answer = { events: eventsOf(apis) };
    const url = standIn.server.url;
    const serve = (keyUri: string) =>
      zkinferInProcess(
        'subnet',
        'serve',
        key.ss58,
        'http://203.0.113.9:8091',
        '--network',
        url,
        '--netuid',
        '23',
        '--key',
        keyUri,
      );
    const served = await serve('//ZkinferChainWriter');
    expect(served.code, served.stderr).toBe(0);
    expect(served.stdout.trim()).toBe(`${key.ss58} serves http://203.0.113.9:8091 on subnet 23`);
    const ext = apis.registry.createType('Extrinsic', hexToU8a(standIn.submitted.at(-1)!));
    expect(ext.signer.toString()).toBe(key.ss58);
    expect(ext.method.toJSON()).toMatchObject({ args: { netuid: 23, port: 8091 } });
    // the key must be the hotkey's
    const other = await serve('//Someone');
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/--key is the key of \S+, not of /);
    // burned_register, signed by the coldkey; the chain's refusal is named
    standIn.answer = { events: eventsOf(apis, 'TooManyRegistrationsThisBlock') };
    const register = () =>
      zkinferInProcess(
        'subnet',
        'register',
        key.ss58,
        '--network',
        url,
        '--netuid',
        '23',
        '--coldkey',
        '//ZkinferColdkey',
      );
    const refused = await register();
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/TooManyRegistrationsThisBlock/);
    const reg = apis.registry.createType('Extrinsic', hexToU8a(standIn.submitted.at(-1)!));
    expect(reg.signer.toString()).toBe((await hotkeyFromUri('//ZkinferColdkey')).ss58);
    standIn.answer = { events: eventsOf(apis) };
    const registered = await register();
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout.trim()).toBe(`${key.ss58} is registered on subnet 23`);
    // a missing key, or both a state file and a network, are one line each
    const noKey = await zkinferInProcess('subnet', 'register', key.ss58, '--network', url, '--netuid', '23');
    expect(noKey.stderr).toMatch(/give the signing key with --coldkey/);
    const both = await zkinferInProcess(
      'subnet',
      'serve',
      key.ss58,
      'http://x:1',
      '--network',
      url,
      '--state',
      's.json',
    );
    expect(both.stderr).toMatch(/needs either --state <file> or --network/);
  });
});
