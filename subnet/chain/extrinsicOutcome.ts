import { expandMetadata } from '@polkadot/types/metadata';
import type { Codec } from '@polkadot/types/types';
import { u8aToHex } from '@polkadot/util';
import { SubtensorError } from '../subtensorClient.ts';
import type { RuntimeApis } from './runtimeApis.ts';

interface StorageEntry {
  (): Uint8Array;
  readonly meta: { readonly type: { readonly asPlain: { toNumber(): number } } };
}

function eventsEntry(apis: RuntimeApis): StorageEntry {
  const query = expandMetadata(apis.registry, apis.metadata).query as unknown as Record<
    string,
    Record<string, StorageEntry>
  >;
  const entry = query['system']?.['events'];
  if (!entry) throw new SubtensorError('PalletMissing', 'the runtime has no System.Events storage');
  return entry;
}

/** The storage key of System.Events (hex), to read a block's events with state_getStorage. */
export function systemEventsKey(apis: RuntimeApis): string {
  return u8aToHex(eventsEntry(apis)());
}

interface EventRecord extends Codec {
  readonly phase: Codec & { isApplyExtrinsic: boolean; asApplyExtrinsic: { toNumber(): number } };
  readonly event: Codec & { section: string; method: string; data: Codec[] };
}

interface DispatchError extends Codec {
  readonly isModule: boolean;
  readonly asModule: Codec;
  readonly type: string;
}

/**
 * What a block's events say about its extrinsic number `index`: applied, or failed with the
 * chain's error named as the runtime names it (a pallet error such as SettingWeightsTooFast, or
 * the dispatch error's kind). Pure: decodes with the runtime's own event types.
 */
export function extrinsicOutcome(apis: RuntimeApis, eventsHex: string | null, index: number): void {
  if (!eventsHex) throw new SubtensorError('EventsMissing', 'the block has no System.Events');
  const type = apis.registry.createLookupType(eventsEntry(apis).meta.type.asPlain.toNumber());
  const records = [...(apis.registry.createType(type, eventsHex) as unknown as Iterable<EventRecord>)];
  const mine = records.filter(
    (r) => r.phase.isApplyExtrinsic && r.phase.asApplyExtrinsic.toNumber() === index,
  );
  if (mine.some((r) => r.event.section === 'system' && r.event.method === 'ExtrinsicSuccess')) return;
  const failed = mine.find((r) => r.event.section === 'system' && r.event.method === 'ExtrinsicFailed');
  if (!failed)
    throw new SubtensorError(
      'OutcomeUnknown',
      `no ExtrinsicSuccess or ExtrinsicFailed for extrinsic ${index} in the block`,
    );
  const error = failed.event.data[0] as DispatchError;
  if (error.isModule) {
    const meta = apis.registry.findMetaError(error.asModule as never);
    throw new SubtensorError(
      meta.name,
      `${meta.section}: ${meta.docs.join(' ').trim() || 'refused by the chain'}`,
    );
  }
  throw new SubtensorError(
    error.type,
    `the chain refused the extrinsic (${JSON.stringify(error.toHuman())})`,
  );
}
