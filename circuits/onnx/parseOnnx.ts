import protobuf from 'protobufjs';
import { OnnxParseError } from '../../protocol/errors.ts';
import { ONNX_PROTO } from './onnxSchema.ts';

/** ONNX TensorProto.DataType values zkinfer decodes. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

/** A constant tensor. Every numeric type is widened to float64 (int64 beyond 2^53 loses precision,
 * which only matters for sentinel values such as Slice's INT64_MAX, where it is harmless). */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  readonly data: Float64Array;
}

export interface OnnxAttribute {
  readonly name: string;
  readonly f?: number;
  readonly i?: number;
  readonly s?: string;
  readonly t?: OnnxTensor;
  readonly floats?: readonly number[];
  readonly ints?: readonly number[];
  readonly strings?: readonly string[];
}

export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, OnnxAttribute>;
}

/** Dimensions: a number, a symbolic name (e.g. "batch"), or null when absent. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: number;
  readonly shape: readonly (number | string | null)[] | null;
}

export interface OnnxModel {
  readonly irVersion: number;
  /** Version of the default ("" / "ai.onnx") operator set. */
  readonly opset: number;
  readonly producer: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly graph: {
    readonly name: string;
    readonly nodes: readonly OnnxNode[];
    readonly initializers: ReadonlyMap<string, OnnxTensor>;
    /** Graph inputs that are not initializers: what a caller feeds. */
    readonly inputs: readonly OnnxValueInfo[];
    readonly outputs: readonly OnnxValueInfo[];
  };
}

let modelType: protobuf.Type | undefined;
function getModelType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

// Loose shapes of what protobufjs's toObject returns for our schema.
interface RawTensor {
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  uint64_data?: number[];
  name?: string;
  raw_data?: Uint8Array;
  data_location?: number;
}
interface RawAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: RawTensor;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
interface RawNode {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: RawAttribute[];
}
interface RawValueInfo {
  name?: string;
  type?: {
    tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } };
  };
}
interface RawModel {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  producer_name?: string;
  producer_version?: string;
  metadata_props?: { key?: string; value?: string }[];
  graph?: {
    node?: RawNode[];
    name?: string;
    initializer?: RawTensor[];
    input?: RawValueInfo[];
    output?: RawValueInfo[];
  };
}

/**
 * Decodes an ONNX model file. Throws {@link OnnxParseError} for anything that is not a
 * well-formed ONNX model (truncated files, other formats, graphs without nodes or outputs).
 */
export function parseOnnx(bytes: Uint8Array, fileLabel = 'model'): OnnxModel {
  if (bytes.length === 0) throw new OnnxParseError(`${fileLabel} is empty, not an ONNX model`);
  let raw: RawModel;
  try {
    const type = getModelType();
    const message = type.decode(bytes);
    raw = type.toObject(message, { longs: Number, enums: Number, bytes: Uint8Array }) as RawModel;
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new OnnxParseError(
      `${fileLabel} is not a readable ONNX model (truncated or another format): ${why}`,
      {
        cause,
      },
    );
  }
  const graph = raw.graph;
  if (!graph || !raw.ir_version || !graph.node?.length || !graph.output?.length) {
    throw new OnnxParseError(
      `${fileLabel} is not an ONNX model: no ${!raw.ir_version ? 'ir_version' : !graph ? 'graph' : !graph.node?.length ? 'nodes' : 'graph outputs'} found`,
    );
  }
  const opsetEntry = raw.opset_import?.find((o) => !o.domain || o.domain === 'ai.onnx');
  const initializers = new Map<string, OnnxTensor>();
  for (const t of graph.initializer ?? []) {
    const tensor = decodeTensor(t, fileLabel);
    initializers.set(tensor.name, tensor);
  }
  const metadata: Record<string, string> = {};
  for (const p of raw.metadata_props ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    irVersion: raw.ir_version,
    opset: opsetEntry?.version ?? 1,
    producer: [raw.producer_name, raw.producer_version].filter(Boolean).join(' '),
    metadata,
    graph: {
      name: graph.name ?? '',
      nodes: graph.node.map((n, i) => decodeNode(n, i, fileLabel)),
      initializers,
      inputs: (graph.input ?? []).map(decodeValueInfo).filter((v) => !initializers.has(v.name)),
      outputs: graph.output.map(decodeValueInfo),
    },
  };
}

function decodeValueInfo(v: RawValueInfo): OnnxValueInfo {
  const tt = v.type?.tensor_type;
  const dims = tt?.shape?.dim;
  return {
    name: v.name ?? '',
    elemType: tt?.elem_type ?? 0,
    shape: dims ? dims.map((d) => (d.dim_value !== undefined ? d.dim_value : (d.dim_param ?? null))) : null,
  };
}

function decodeNode(n: RawNode, index: number, fileLabel: string): OnnxNode {
  const attributes = new Map<string, OnnxAttribute>();
  for (const a of n.attribute ?? []) {
    const name = a.name ?? '';
    const attr: {
      name: string;
      f?: number;
      i?: number;
      s?: string;
      t?: OnnxTensor;
      floats?: number[];
      ints?: number[];
      strings?: string[];
    } = { name };
    if (a.f !== undefined) attr.f = a.f;
    if (a.i !== undefined) attr.i = a.i;
    if (a.s !== undefined) attr.s = new TextDecoder().decode(a.s);
    if (a.t !== undefined) attr.t = decodeTensor(a.t, fileLabel);
    if (a.floats?.length) attr.floats = a.floats;
    if (a.ints?.length) attr.ints = a.ints;
    if (a.strings?.length) attr.strings = a.strings.map((b) => new TextDecoder().decode(b));
    attributes.set(name, attr);
  }
  const opType = n.op_type ?? '';
  return {
    name: n.name || `${opType || 'node'}_${index}`,
    opType,
    domain: n.domain ?? '',
    inputs: n.input ?? [],
    outputs: n.output ?? [],
    attributes,
  };
}

const BYTES_PER: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
};

/** Decodes a TensorProto into float64 values (raw_data is little-endian per the ONNX spec). */
export function decodeTensor(t: RawTensor, fileLabel = 'model'): OnnxTensor {
  const name = t.name ?? '';
  const dims = t.dims ?? [];
  const dataType = t.data_type ?? 0;
  const count = dims.reduce((a, b) => a * b, 1);
  if (t.data_location === 1) {
    throw new OnnxParseError(
      `${fileLabel}: tensor "${name}" keeps its data in an external file; re-export with the weights inside the .onnx`,
    );
  }
  const width = BYTES_PER[dataType];
  if (width === undefined) {
    throw new OnnxParseError(
      `${fileLabel}: tensor "${name}" has data type ${dataType}, which zkinfer does not read`,
    );
  }
  let data: Float64Array;
  if (t.raw_data && t.raw_data.length > 0) {
    const raw = t.raw_data;
    if (raw.length !== count * width) {
      throw new OnnxParseError(
        `${fileLabel}: tensor "${name}" has ${raw.length} bytes of data, expected ${count * width} for dims [${dims.join(', ')}]`,
      );
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    data = new Float64Array(count);
    for (let i = 0; i < count; i++) data[i] = readScalar(view, i * width, dataType);
  } else {
    const source =
      dataType === DataType.FLOAT || dataType === DataType.FLOAT16
        ? dataType === DataType.FLOAT
          ? t.float_data
          : t.int32_data?.map((bits) => halfToFloat(bits))
        : dataType === DataType.DOUBLE
          ? t.double_data
          : dataType === DataType.INT64
            ? t.int64_data
            : dataType === DataType.UINT32 || dataType === DataType.UINT64
              ? t.uint64_data
              : t.int32_data;
    const values = source ?? [];
    if (values.length !== count) {
      throw new OnnxParseError(
        `${fileLabel}: tensor "${name}" has ${values.length} values, expected ${count} for dims [${dims.join(', ')}]`,
      );
    }
    data = Float64Array.from(values);
  }
  return { name, dims, dataType, data };
}

function readScalar(view: DataView, offset: number, dataType: number): number {
  switch (dataType) {
    case DataType.FLOAT:
      return view.getFloat32(offset, true);
    case DataType.DOUBLE:
      return view.getFloat64(offset, true);
    case DataType.UINT8:
    case DataType.BOOL:
      return view.getUint8(offset);
    case DataType.INT8:
      return view.getInt8(offset);
    case DataType.UINT16:
      return view.getUint16(offset, true);
    case DataType.INT16:
      return view.getInt16(offset, true);
    case DataType.INT32:
      return view.getInt32(offset, true);
    case DataType.UINT32:
      return view.getUint32(offset, true);
    case DataType.INT64:
      return Number(view.getBigInt64(offset, true));
    case DataType.UINT64:
      return Number(view.getBigUint64(offset, true));
    case DataType.FLOAT16:
      return halfToFloat(view.getUint16(offset, true));
    default:
      throw new OnnxParseError(`unsupported tensor data type ${dataType}`);
  }
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
