import protobuf from 'protobufjs';
import { ONNX_PROTO } from '../../circuits/onnx/onnxSchema.ts';

/** Builds small ONNX models in tests (for ops and shapes no fixture export has). */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, number | number[] | string>;
}

const type = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');

export function buildOnnx(spec: {
  input: { name: string; shape: (number | string)[] };
  /** More graph inputs (zkinfer proves one; these exist to test that refusal). */
  extraInputs?: { name: string; shape: (number | string)[] }[];
  output: string;
  nodes: NodeSpec[];
  initializers?: Record<string, { dims: number[]; data: number[] }>;
  opset?: number;
}): Uint8Array {
  const attr = (name: string, v: number | number[] | string) =>
    typeof v === 'string'
      ? { name, type: 3, s: new TextEncoder().encode(v) }
      : Array.isArray(v)
        ? { name, type: 7, ints: v }
        : Number.isInteger(v)
          ? { name, type: 2, i: v }
          : { name, type: 1, f: v };
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: spec.opset ?? 13 }],
    producer_name: 'zkinfer-tests',
    graph: {
      name: 'g',
      node: spec.nodes.map((n, i) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${i}`,
        op_type: n.op,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)),
      })),
      initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) => ({
        name,
        dims: t.dims,
        data_type: 1,
        float_data: t.data,
      })),
      input: [spec.input, ...(spec.extraInputs ?? [])].map((i) => ({
        name: i.name,
        type: {
          tensor_type: {
            elem_type: 1,
            shape: { dim: i.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
          },
        },
      })),
      output: [{ name: spec.output, type: { tensor_type: { elem_type: 1 } } }],
    },
  };
  return type.encode(type.fromObject(model)).finish();
}
