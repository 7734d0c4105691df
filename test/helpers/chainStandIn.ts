import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { GENESIS } from '../../subnet/chain/chainSubtensor.ts';
import { systemEventsKey } from '../../subnet/chain/extrinsicOutcome.ts';
import { RuntimeApis } from '../../subnet/chain/runtimeApis.ts';
import { FINNEY_DIR, type ReplayServer, startReplayServer } from './replayRpcServer.ts';

/** The recorded finney runtime (metadata V15), as the chain client decodes it. */
export const finneyApis = (): RuntimeApis =>
  RuntimeApis.fromMetadataAtVersion(readFileSync(join(FINNEY_DIR, 'metadata-at-version.hex'), 'utf8').trim());

const BLOCK = `0x${'ab'.repeat(32)}`;

/** System.Events of a block whose extrinsic 1 succeeded, or failed with SubtensorModule's `error`. */
export function eventsOf(apis: RuntimeApis, error?: string): string {
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

export interface ChainStandIn {
  readonly server: ReplayServer;
  /** Signed extrinsics submitted, in order (hex). */
  readonly submitted: string[];
  /** What the next submission meets: a block with these events, or the pool's refusal. */
  answer: { events: string } | { refuse: unknown };
}

/**
 * A chain for tests: reads answered from the recorded finney responses; the transaction pool and
 * the including block (which no recording holds) are a stand-in: a submission is put in a block at
 * index 1, whose System.Events are `answer.events` (encoded in the runtime's own types).
 */
export async function startChainStandIn(): Promise<ChainStandIn> {
  const apis = finneyApis();
  const recorded = JSON.parse(readFileSync(join(FINNEY_DIR, 'responses.json'), 'utf8')) as Record<
    string,
    Record<string, Record<string, { result: unknown }>>
  >;
  const runtimeVersion = Object.values(recorded['neurons_lite']!['state_getRuntimeVersion']!)[0]!.result;
  const eventsKey = systemEventsKey(apis);
  const standIn: { submitted: string[]; answer: ChainStandIn['answer'] } = {
    submitted: [],
    answer: { events: eventsOf(apis) },
  };
  const server = await startReplayServer(
    { '["chain_getBlockHash",[0]]': GENESIS['finney'] },
    (method, params, notify) => {
      if (method === 'state_getRuntimeVersion' && params.length === 0) return { result: runtimeVersion };
      if (method === 'system_accountNextIndex') return { result: 3 };
      if (method === 'author_submitAndWatchExtrinsic') {
        if ('refuse' in standIn.answer) return { error: standIn.answer.refuse };
        standIn.submitted.push(params[0] as string);
        notify('author_extrinsicUpdate', 'sub-1', 'ready');
        notify('author_extrinsicUpdate', 'sub-1', { inBlock: BLOCK });
        return { result: 'sub-1' };
      }
      if (method === 'author_unwatchExtrinsic') return { result: true };
      if (method === 'chain_getBlock' && params[0] === BLOCK)
        return { result: { block: { header: {}, extrinsics: ['0x280402000b', standIn.submitted.at(-1)] } } };
      if (
        method === 'state_getStorage' &&
        params[0] === eventsKey &&
        params[1] === BLOCK &&
        'events' in standIn.answer
      )
        return { result: standIn.answer.events };
      return undefined;
    },
  );
  return Object.assign(standIn, { server });
}
