import type { FloatGraph, LinearNode } from './floatGraph.ts';
import { consumersOf, LinearMapBuilder } from './floatGraph.ts';

/** Composition may grow the term count; beyond this factor the two maps stay separate. */
const MAX_GROWTH = 4;

/**
 * Replaces linear ∘ linear by one linear map wherever the inner result feeds only the outer map
 * and is not a model output. Linear maps cost no constraints, but each separate one would get its
 * own rescale: composing removes those rescales (fewer constraints, less rounding).
 */
export function composeLinearChains(graph: FloatGraph): FloatGraph {
  let nodes = [...graph.nodes];
  const outputTensors = new Set(graph.outputs.map((o) => o.tensor));
  for (let changed = true; changed; ) {
    changed = false;
    const consumers = consumersOf(nodes);
    const producer = new Map(nodes.map((n) => [n.output, n]));
    for (let i = 0; i < nodes.length && !changed; i++) {
      const outer = nodes[i]!;
      if (outer.kind !== 'linear') continue;
      for (const t of outer.inputs) {
        const inner = producer.get(t);
        if (inner?.kind !== 'linear' || outputTensors.has(t) || (consumers.get(t)?.length ?? 0) !== 1)
          continue;
        const composed = compose(outer, inner, t);
        if (composed.map.w.length > MAX_GROWTH * (outer.map.w.length + inner.map.w.length) + 10_000) continue;
        nodes = nodes.filter((n) => n !== inner).map((n) => (n === outer ? composed : n));
        changed = true;
        break;
      }
    }
  }
  return { ...graph, nodes };
}

/** outer(x..., inner(y...)) as one map over outer's other inputs and inner's inputs. */
function compose(outer: LinearNode, inner: LinearNode, via: number): LinearNode {
  const inputs = [...new Set([...outer.inputs.filter((t) => t !== via), ...inner.inputs])];
  const builder = new LinearMapBuilder();
  const bias = Float64Array.from(outer.bias);
  const row = new Map<number, number>(); // key: src * 2^32-ish + idx, packed below
  const key = (src: number, idx: number) => src * 0x1_0000_0000 + idx;
  for (let r = 0; r < outer.map.rows; r++) {
    row.clear();
    for (let e = outer.map.rowPtr[r]!; e < outer.map.rowPtr[r + 1]!; e++) {
      const t = outer.inputs[outer.map.src[e]!]!;
      const w = outer.map.w[e]!;
      const idx = outer.map.idx[e]!;
      if (t !== via) {
        const k = key(inputs.indexOf(t), idx);
        row.set(k, (row.get(k) ?? 0) + w);
        continue;
      }
      bias[r] = bias[r]! + w * inner.bias[idx]!;
      for (let f = inner.map.rowPtr[idx]!; f < inner.map.rowPtr[idx + 1]!; f++) {
        const k = key(inputs.indexOf(inner.inputs[inner.map.src[f]!]!), inner.map.idx[f]!);
        row.set(k, (row.get(k) ?? 0) + w * inner.map.w[f]!);
      }
    }
    for (const [k, w] of [...row.entries()].sort((a, b) => a[0] - b[0])) {
      builder.add(Math.floor(k / 0x1_0000_0000), k % 0x1_0000_0000, w);
    }
    builder.endRow();
  }
  return {
    kind: 'linear',
    onnx: [...inner.onnx, ...outer.onnx],
    inputs,
    output: outer.output,
    map: builder.build(),
    bias,
  };
}
