import type { FloatGraph, FloatNode } from './floatGraph.ts';
import { FN_FLOAT } from './fnApprox.ts';

/**
 * Runs the float IR on one input (row-major, the model's input shape). Returns every tensor's values,
 * indexed by tensor id. Used for calibration and to check the lowering against onnxruntime.
 */
export function runFloat(graph: FloatGraph, input: Float64Array): Float64Array[] {
  const values: Float64Array[] = [];
  values[graph.input.tensor] = input;
  for (const node of graph.nodes) values[node.output] = evalNode(node, values);
  return values;
}

function evalNode(node: FloatNode, values: readonly Float64Array[]): Float64Array {
  switch (node.kind) {
    case 'linear': {
      const { map } = node;
      const ins = node.inputs.map((t) => values[t]!);
      const out = new Float64Array(map.rows);
      for (let r = 0; r < map.rows; r++) {
        let acc = node.bias[r]!;
        for (let e = map.rowPtr[r]!; e < map.rowPtr[r + 1]!; e++)
          acc += map.w[e]! * ins[map.src[e]!]![map.idx[e]!]!;
        out[r] = acc;
      }
      return out;
    }
    case 'relu':
      return values[node.input]!.map((v) => Math.max(0, v));
    case 'maxpool': {
      const x = values[node.input]!;
      return Float64Array.from(node.windows, (w) => Math.max(...Array.from(w, (i) => x[i]!)));
    }
    case 'argmax': {
      const x = values[node.input]!;
      return Float64Array.from(node.groups, (g) => {
        let best = 0;
        for (let k = 1; k < g.length; k++) if (x[g[k]!]! > x[g[best]!]!) best = k;
        return best;
      });
    }
    case 'mul': {
      const a = values[node.a]!;
      const b = values[node.b]!;
      return Float64Array.from(node.ia, (i, r) => a[i]! * b[node.ib[r]!]!);
    }
    case 'fn':
      return values[node.input]!.map(FN_FLOAT[node.fn]);
    case 'div': {
      const n = values[node.num]!;
      const d = values[node.den]!;
      return Float64Array.from(node.inum, (i, r) => n[i]! / d[node.iden[r]!]!);
    }
    case 'rsqrt':
      return values[node.input]!.map((v) => 1 / Math.sqrt(v));
    case 'softmax': {
      const x = values[node.input]!;
      const out = new Float64Array(x.length);
      for (const g of node.groups) {
        const m = Math.max(...Array.from(g, (i) => x[i]!));
        let sum = 0;
        for (const i of g) sum += Math.exp(x[i]! - m);
        for (const i of g) out[i] = Math.exp(x[i]! - m) / sum;
      }
      return out;
    }
  }
}
