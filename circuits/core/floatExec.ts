import type { FloatGraph } from './floatGraph.ts';

/**
 * Runs the float IR on one input (row-major, the model's input shape). Returns every tensor's values,
 * indexed by tensor id. Used for calibration and to check the lowering against onnxruntime.
 */
export function runFloat(graph: FloatGraph, input: Float64Array): Float64Array[] {
  const values: Float64Array[] = [];
  values[graph.input.tensor] = input;
  for (const node of graph.nodes) {
    if (node.kind === 'linear') {
      const { map } = node;
      const ins = node.inputs.map((t) => values[t]!);
      const out = new Float64Array(map.rows);
      for (let r = 0; r < map.rows; r++) {
        let acc = node.bias[r]!;
        for (let e = map.rowPtr[r]!; e < map.rowPtr[r + 1]!; e++)
          acc += map.w[e]! * ins[map.src[e]!]![map.idx[e]!]!;
        out[r] = acc;
      }
      values[node.output] = out;
    } else if (node.kind === 'relu') {
      values[node.output] = values[node.input]!.map((v) => Math.max(0, v));
    } else if (node.kind === 'maxpool') {
      const x = values[node.input]!;
      values[node.output] = Float64Array.from(node.windows, (w) => Math.max(...Array.from(w, (i) => x[i]!)));
    } else {
      const x = values[node.input]!;
      values[node.output] = Float64Array.from(node.groups, (g) => {
        let best = 0;
        for (let k = 1; k < g.length; k++) if (x[g[k]!]! > x[g[best]!]!) best = k;
        return best;
      });
    }
  }
  return values;
}
