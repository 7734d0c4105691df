import { sha3_256 } from '@noble/hashes/sha3';
import { type PyType, PyTypeError, pyJsonDumps, pyStr } from './pythonRepr.ts';

/**
 * Synapses as the Bittensor Python SDK sends them. Its dendrite POSTs the synapse's whole
 * `model_dump()` as JSON (the SDK's own fields first, then the synapse's) and signs a body hash
 * that covers only the fields the synapse class lists in `required_hash_fields`:
 * sha3_256(concat(sha3_256(str(field)) for each listed field)), hex; sha3 of "" when none are.
 * The axon accepts that form beside zkinfer's own (sha3 of the raw body).
 */

const sha3Hex = (text: string) => Buffer.from(sha3_256(new TextEncoder().encode(text))).toString('hex');

/** bittensor's TerminalInfo (the `dendrite` and `axon` members), field by field in its order. */
export const TERMINAL_INFO: PyType = {
  model: [
    ['status_code', { optional: 'int' }],
    ['status_message', { optional: 'str' }],
    ['process_time', { optional: 'float' }],
    ['ip', { optional: 'str' }],
    ['port', { optional: 'int' }],
    ['version', { optional: 'int' }],
    ['nonce', { optional: 'int' }],
    ['uuid', { optional: 'str' }],
    ['hotkey', { optional: 'str' }],
    ['signature', { optional: 'str' }],
  ],
};

/** The fields every SDK synapse has before its own; stripped before a handler sees the body. */
export const SDK_BASE_FIELDS: readonly (readonly [string, PyType])[] = [
  ['name', { optional: 'str' }],
  ['timeout', { optional: 'float' }],
  ['total_size', { optional: 'int' }],
  ['header_size', { optional: 'int' }],
  ['dendrite', { optional: TERMINAL_INFO }],
  ['axon', { optional: TERMINAL_INFO }],
  ['computed_body_hash', { optional: 'str' }],
];

export interface SdkSynapseSpec {
  /** The Python class name: the SDK's `name` field and the route. */
  readonly name: string;
  /** The class's own fields in declared order (what `model_dump()` lists after the base fields). */
  readonly fields: readonly (readonly [string, PyType])[];
  /** Fields without a default: the SDK sends an empty instance of each as bt_header_input_obj_*. */
  readonly required: readonly string[];
  /** The class's `required_hash_fields`, in order: what the signature covers. */
  readonly hashFields: readonly string[];
}

/** zkinfer's synapses as Python classes declare them (docs/python/zkinfer_synapses.py). */
export const SDK_SYNAPSES: Readonly<Record<string, SdkSynapseSpec>> = {
  ProveInference: {
    name: 'ProveInference',
    fields: [
      ['modelId', 'str'],
      ['input', { list: 'float' }],
      [
        'binding',
        {
          model: [
            ['nonce', 'str'],
            ['validatorHotkey', 'str'],
            ['minerHotkey', 'str'],
          ],
        },
      ],
      ['deadlineMs', 'int'],
      ['proof', 'any'],
      ['publicSignals', 'any'],
      ['outputs', 'any'],
      ['predictedClass', 'any'],
      ['slices', 'any'],
      ['timings', 'any'],
    ],
    required: ['modelId', 'input', 'binding'],
    // everything the miner consumes is signed: the model, the input, the binding and the deadline
    hashFields: ['modelId', 'input', 'binding', 'deadlineMs'],
  },
  Capacity: {
    name: 'Capacity',
    fields: [
      ['hotkey', 'any'],
      ['models', 'any'],
      ['workers', 'any'],
      ['queueDepth', 'any'],
      ['maxQueue', 'any'],
    ],
    required: [],
    hashFields: [],
  },
};

/** True when a parsed body looks like an SDK synapse dump for this route. */
export function isSdkBody(body: unknown, spec: SdkSynapseSpec): body is Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const b = body as Record<string, unknown>;
  return b['name'] === spec.name && 'dendrite' in b;
}

/** The SDK's body hash of a dumped synapse; null when a hashed field does not have its declared type. */
export function sdkBodyHash(spec: SdkSynapseSpec, body: Record<string, unknown>): string | null {
  const types = new Map(spec.fields);
  try {
    const parts = spec.hashFields.map((f) => sha3Hex(pyStr(body[f], types.get(f) ?? 'any', f)));
    return sha3Hex(parts.join(''));
  } catch (e) {
    if (e instanceof PyTypeError) return null;
    throw e;
  }
}

/** The synapse's own fields, without the SDK's envelope: what a handler parses. */
export function sdkPayload(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  for (const [k] of SDK_BASE_FIELDS) delete out[k];
  return out;
}

export interface SdkRequestParts {
  readonly spec: SdkSynapseSpec;
  /** The synapse's own field values (missing ones are None). */
  readonly values: Readonly<Record<string, unknown>>;
  readonly timeoutSeconds: number;
  readonly dendrite: { readonly ip: string; readonly version: number; readonly hotkey: string };
  readonly axon: { readonly ip: string; readonly port: number; readonly hotkey: string };
  readonly nonce: bigint;
  readonly uuid: string;
  /** sr25519 signer of the dendrite hotkey: "0x" + 128 hex digits. */
  readonly sign: (message: string) => string;
}

/**
 * A request as the SDK's dendrite builds it: the JSON body byte for byte (Python's json.dumps of
 * model_dump()) and the headers of Synapse.to_headers(). For tests and for clients that speak
 * the SDK's dialect from TypeScript.
 */
export function buildSdkRequest(p: SdkRequestParts): { body: string; headers: Record<string, string> } {
  const dump: Record<string, unknown> = {};
  for (const [k] of p.spec.fields) dump[k] = p.values[k] ?? null;
  const hash = sdkBodyHash(p.spec, dump);
  if (hash === null) throw new PyTypeError(p.spec.name, 'a synapse whose hashed fields have their types');
  const signature = p.sign(`${p.nonce}.${p.dendrite.hotkey}.${p.axon.hotkey}.${p.uuid}.${hash}`);
  const dendrite = {
    status_code: null,
    status_message: null,
    process_time: null,
    ip: p.dendrite.ip,
    port: null,
    version: p.dendrite.version,
    nonce: p.nonce,
    uuid: p.uuid,
    hotkey: p.dendrite.hotkey,
    signature,
  };
  const axon = {
    status_code: null,
    status_message: null,
    process_time: null,
    ip: p.axon.ip,
    port: p.axon.port,
    version: null,
    nonce: null,
    uuid: null,
    hotkey: p.axon.hotkey,
    signature: null,
  };
  const full = {
    name: p.spec.name,
    timeout: p.timeoutSeconds,
    total_size: 0,
    header_size: 0,
    dendrite,
    axon,
    computed_body_hash: '',
    ...dump,
  };
  const body = pyJsonDumps(full, { model: [...SDK_BASE_FIELDS, ...p.spec.fields] });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    name: p.spec.name,
    timeout: pyStr(p.timeoutSeconds, 'float'),
  };
  for (const [k, v] of Object.entries(axon)) if (v !== null) headers[`bt_header_axon_${k}`] = String(v);
  for (const [k, v] of Object.entries(dendrite))
    if (v !== null) headers[`bt_header_dendrite_${k}`] = String(v);
  for (const field of p.spec.required) {
    const empty = Array.isArray(dump[field]) ? '[]' : typeof dump[field] === 'string' ? '""' : '{}';
    headers[`bt_header_input_obj_${field}`] = Buffer.from(empty).toString('base64');
  }
  headers['header_size'] = '640';
  headers['total_size'] = String(Buffer.byteLength(body));
  headers['computed_body_hash'] = hash;
  return { body, headers };
}
