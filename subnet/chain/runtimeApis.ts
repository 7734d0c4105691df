import { Metadata, TypeRegistry } from '@polkadot/types';
import type { Codec } from '@polkadot/types/types';
import { compactFromU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { SubtensorError } from '../subtensorClient.ts';

interface ApiMethod {
  readonly inputs: readonly { readonly name: string; readonly type: number }[];
  readonly output: number;
}

/**
 * The chain's runtime APIs as its metadata V15 declares them (`Metadata_metadata_at_version(15)`):
 * arguments are encoded and answers decoded with the types the runtime itself publishes, so a field
 * added to NeuronInfoLite in a runtime upgrade is decoded, not misread. Pure (no I/O).
 */
export class RuntimeApis {
  readonly registry: TypeRegistry;
  readonly metadata: Metadata;
  private readonly methods = new Map<string, ApiMethod>();

  private constructor(metadataV15: Uint8Array) {
    this.registry = new TypeRegistry();
    const metadata = new Metadata(this.registry, metadataV15);
    this.metadata = metadata;
    // extensions that add nothing to an extrinsic or its payload (Null and Null in the metadata,
    // like subtensor's SubtensorTransactionExtension and DrandPriority) are declared as such
    const lookup = metadata.asV15.lookup;
    const isNull = (id: { toNumber(): number }) => lookup.getTypeDef(id.toNumber()).type === 'Null';
    const empty = Object.fromEntries(
      metadata.asV15.extrinsic.signedExtensions
        .filter((e) => isNull(e.type) && isNull(e.additionalSigned))
        .map((e) => [e.identifier.toString(), { extrinsic: {}, payload: {} }]),
    );
    this.registry.setMetadata(metadata, undefined, empty);
    if (metadata.version < 15)
      throw new SubtensorError(
        'MetadataTooOld',
        `the chain serves metadata V${metadata.version}; runtime APIs need V15`,
      );
    for (const api of metadata.asV15.apis) {
      for (const m of api.methods) {
        this.methods.set(`${api.name.toString()}_${m.name.toString()}`, {
          inputs: m.inputs.map((i) => ({ name: i.name.toString(), type: i.type.toNumber() })),
          output: m.output.toNumber(),
        });
      }
    }
  }

  /** From the hex answer of `state_call("Metadata_metadata_at_version", 15)`: Option<OpaqueMetadata>. */
  static fromMetadataAtVersion(hex: string): RuntimeApis {
    const raw = hexToU8a(hex);
    if (raw[0] !== 1)
      throw new SubtensorError(
        'MetadataMissing',
        'the chain has no metadata V15 (Metadata_metadata_at_version(15) is None)',
      );
    const [offset, length] = compactFromU8a(raw.subarray(1));
    return new RuntimeApis(raw.subarray(1 + offset, 1 + offset + Number(length)));
  }

  /** True when the runtime has this API method (`NeuronInfoRuntimeApi_get_neurons_lite`). */
  has(method: string): boolean {
    return this.methods.has(method);
  }

  private method(name: string): ApiMethod {
    const m = this.methods.get(name);
    if (!m)
      throw new SubtensorError(
        'RuntimeApiMissing',
        `the chain's runtime has no ${name}: it is not a subtensor runtime zkinfer can read (wrong network, or a runtime too old or too new)`,
      );
    return m;
  }

  /** The SCALE encoding of the method's arguments, in order, as `state_call` takes them (hex). */
  encodeArgs(name: string, args: readonly unknown[]): string {
    const m = this.method(name);
    if (args.length !== m.inputs.length)
      throw new SubtensorError(
        'RuntimeApiArgs',
        `${name} takes ${m.inputs.length} arguments, got ${args.length}`,
      );
    return u8aToHex(
      u8aConcat(
        ...m.inputs.map((input, i) =>
          this.registry.createType(this.registry.createLookupType(input.type), args[i]).toU8a(),
        ),
      ),
    );
  }

  /**
   * Decodes a `state_call` answer as the method's output type. Runtimes before the typed runtime
   * APIs answered the same methods with a Vec<u8> wrapping the encoding (of T itself for an Option<T>
   * output, empty for None): that form is recognised by its length prefix covering exactly the rest.
   * Either way every byte must be consumed, or the answer is refused rather than misread.
   */
  decode(name: string, hex: string): Codec | null {
    const m = this.method(name);
    const bytes = hexToU8a(hex);
    const type = this.registry.createLookupType(m.output);
    const direct = this.tryDecode(type, bytes);
    if (direct) return unwrapOption(direct);
    const [offset, length] = compactFromU8a(bytes);
    if (offset + Number(length) === bytes.length) {
      const inner = bytes.subarray(offset);
      const si = this.registry.lookup.getSiType(m.output);
      const isOption = si.path.length === 1 && si.path[0]!.toString() === 'Option';
      if (isOption) {
        if (inner.length === 0) return null;
        const some = this.tryDecode(
          this.registry.createLookupType(si.def.asVariant.variants[1]!.fields[0]!.type),
          inner,
        );
        if (some) return some;
      } else {
        const wrapped = this.tryDecode(type, inner);
        if (wrapped) return wrapped;
      }
    }
    throw new SubtensorError(
      'UndecodableAnswer',
      `${name}: the chain's answer (${bytes.length} bytes) does not decode as ${this.registry.lookup.getTypeDef(m.output).type}`,
    );
  }

  private tryDecode(type: string, bytes: Uint8Array): Codec | null {
    try {
      const v = this.registry.createType(type, bytes) as Codec;
      return v.encodedLength === bytes.length ? v : null;
    } catch {
      return null;
    }
  }
}

/** An Option's value (null for None); any other codec as it is. */
function unwrapOption(v: Codec): Codec | null {
  const o = v as Codec & { isNone?: boolean; unwrap?: () => Codec };
  if (typeof o.isNone === 'boolean' && typeof o.unwrap === 'function') return o.isNone ? null : o.unwrap();
  return v;
}
