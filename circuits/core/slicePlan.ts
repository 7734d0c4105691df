import { InvalidInputError } from '../../protocol/errors.ts';
import { POSEIDON_CONSTRAINTS } from './codegen.ts';
import { inputsPerLimb, poseidonChain } from './publicSignals.ts';
import {
  bitLength,
  maxBig,
  minBig,
  type QLinear,
  type QNode,
  type QTensor,
  type QuantGraph,
} from './quantGraph.ts';

/**
 * Cutting a quantized graph into slices that are each one circuit under a constraint budget.
 *
 * A cut after node i is allowed where no model output has been produced yet; the boundary is every
 * tensor live across it (produced at or before i, or the model input, and used after i), in id
 * order: one tensor in a sequential network, the state and the input in a recurrent one, both
 * branches at a residual connection. The slice before the cut publishes the Poseidon hash of the
 * boundary, concatenated and packed as the next slice packs its input, so consecutive proofs chain
 * by equal hashes. A slice's predicted constraints are its layers, its input's range check and
 * hash, and its output's hash (planSlices).
 */

/** How a boundary (its tensors concatenated) is range-checked and packed: `bits`-bit offsets from `min`. */
export interface BoundaryEncoding {
  readonly tensors: readonly number[];
  readonly size: number;
  readonly bits: number;
  readonly min: number;
  readonly max: number;
  /** A single tensor's scale; 0 for several (the slice then reads their integers as they are). */
  readonly scale: number;
}

export interface SlicePlan {
  /** Nodes [start, end) of the graph. */
  readonly start: number;
  readonly end: number;
  /** The boundary this slice reads (undefined: the model's input). */
  readonly input?: BoundaryEncoding | undefined;
  /** The boundary this slice hashes out (undefined: the model's outputs, as the model publishes them). */
  readonly output?: BoundaryEncoding | undefined;
  /** Predicted constraints of the slice's circuit. */
  readonly constraints: number;
}

/** The encoding of a boundary, or undefined when its values are too wide to pack. */
export function boundaryEncoding(
  graph: QuantGraph,
  tensors: readonly number[],
): BoundaryEncoding | undefined {
  const ts = tensors.map((id) => graph.tensors[id]!);
  const lo = minBig(ts.map((t) => minBig(t.lo)));
  const hi = maxBig(ts.map((t) => maxBig(t.hi)));
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (lo < -limit || hi > limit) return undefined;
  return {
    tensors: [...tensors],
    size: ts.reduce((s, t) => s + t.lo.length, 0),
    bits: Math.max(1, bitLength(hi - lo)),
    min: Number(lo),
    max: Number(hi),
    scale: ts.length === 1 ? ts[0]!.scale : 0,
  };
}

function chainCost(count: number): number {
  return poseidonChain(count).reduce((s, size) => s + POSEIDON_CONSTRAINTS[size]!, 0);
}

/** Constraints to range-check, pack and hash a boundary as a slice's input. */
export function boundaryInputCost(b: BoundaryEncoding): number {
  return b.size * b.bits + chainCost(Math.ceil(b.size / inputsPerLimb(b.bits)));
}

/** Constraints to hash a boundary as a slice's output (packing is linear). */
export function boundaryOutputCost(b: BoundaryEncoding): number {
  return chainCost(Math.ceil(b.size / inputsPerLimb(b.bits)));
}

/** The tensors a quantized node reads. */
export function qNodeInputs(node: QNode): number[] {
  switch (node.kind) {
    case 'linear':
      return [...node.inputs];
    case 'mul':
      return [node.a, node.b];
    case 'div':
      return [node.num, node.den];
    case 'rescale':
    case 'maxpool':
    case 'argmax':
    case 'fn':
    case 'rsqrt':
      return [node.input];
  }
}

/**
 * For every cut position j (after nodes [0, j)), the tensors live across it in id order, or
 * undefined where the cut is not allowed (a model output already produced).
 */
function cutBoundaries(graph: QuantGraph): (number[] | undefined)[] {
  const lastUse: number[] = [];
  graph.nodes.forEach((node, i) => {
    for (const t of qNodeInputs(node)) lastUse[t] = Math.max(lastUse[t] ?? -1, i);
  });
  const outputs = new Set(graph.outputs.map((o) => o.tensor));
  const live = new Set<number>();
  if ((lastUse[graph.input.tensor] ?? -1) >= 0) live.add(graph.input.tensor);
  let outputProduced = outputs.has(graph.input.tensor);
  const out: (number[] | undefined)[] = [undefined];
  graph.nodes.forEach((node, i) => {
    for (const t of qNodeInputs(node)) if (lastUse[t] === i) live.delete(t);
    if ((lastUse[node.output] ?? -1) > i) live.add(node.output);
    if (outputs.has(node.output)) outputProduced = true;
    out.push(!outputProduced && live.size > 0 ? [...live].sort((a, b) => a - b) : undefined);
  });
  return out;
}

/**
 * Plans slices under `budget` constraints: the fewest slices, then the smallest largest slice
 * (slices of one request prove in parallel, so the largest sets the latency), then the fewest
 * constraints in all (a cut where the live tensor is narrow costs less on both sides). `nodeCosts[i]` is node i's
 * predicted constraints, `inputCost` the model input's range check and hash, `outputCost` the
 * model outputs' cost. One slice when everything fits. Throws, naming the layer, when no choice of
 * allowed cuts keeps every slice under the budget.
 */
export function planSlices(
  graph: QuantGraph,
  nodeCosts: readonly number[],
  inputCost: number,
  outputCost: number,
  budget: number,
): SlicePlan[] {
  const n = graph.nodes.length;
  const prefix = [0];
  for (let i = 0; i < n; i++) prefix.push(prefix[i]! + nodeCosts[i]!);
  const total = inputCost + 1 + prefix[n]! + outputCost;
  if (total <= budget) return [{ start: 0, end: n, constraints: total }];
  const cuts = cutBoundaries(graph);
  const enc = cuts.map((t) => (t === undefined ? undefined : boundaryEncoding(graph, t)));
  // best[j]: fewest slices, then smallest largest slice, then fewest constraints, covering nodes
  // [0, j) and ending at cut j
  const best: ({ slices: number; max: number; cost: number; from: number } | undefined)[] = [
    { slices: 0, max: 0, cost: 0, from: -1 },
  ];
  for (let j = 1; j <= n; j++) {
    if (j < n && !enc[j]) continue;
    const outCost = j === n ? outputCost : boundaryOutputCost(enc[j]!);
    for (let i = 0; i < j; i++) {
      const b = best[i];
      if (!b || (i > 0 && !enc[i])) continue;
      const inCost = i === 0 ? inputCost : boundaryInputCost(enc[i]!);
      const cost = inCost + 1 + prefix[j]! - prefix[i]! + outCost;
      if (cost > budget) continue;
      const cand = { slices: b.slices + 1, max: Math.max(b.max, cost), cost: b.cost + cost, from: i };
      const cur = best[j];
      const better =
        !cur ||
        cand.slices < cur.slices ||
        (cand.slices === cur.slices &&
          (cand.max < cur.max || (cand.max === cur.max && cand.cost < cur.cost)));
      if (better) best[j] = cand;
    }
  }
  if (!best[n]) {
    // the furthest cut reached, and the layer at which a slice from there outgrows the budget
    let start = 0; // (best has holes where no slice may end: map would skip them)
    for (let j = 0; j < n; j++) if (best[j]) start = j;
    const inCost = start === 0 ? inputCost : boundaryInputCost(enc[start]!);
    let at = start;
    while (at < n - 1 && inCost + 1 + prefix[at + 1]! - prefix[start]! <= budget) at++;
    const node = graph.nodes[at]!;
    throw new InvalidInputError(
      `no cut keeps every slice under ${budget} constraints: a slice starting at layer ${start} outgrows it at layer ${at} (${node.kind} <- ${node.onnx.join(', ')}) before any allowed cut; raise --max-constraints`,
      'INVALID_OPTION',
    );
  }
  const plans: SlicePlan[] = [];
  for (let j = n; j > 0; ) {
    const i = best[j]!.from;
    const input = i === 0 ? undefined : enc[i];
    const output = j === n ? undefined : enc[j];
    const constraints =
      (input ? boundaryInputCost(input) : inputCost) +
      1 +
      prefix[j]! -
      prefix[i]! +
      (output ? boundaryOutputCost(output) : outputCost);
    plans.unshift({ start: i, end: j, input, output, constraints });
    j = i;
  }
  return plans;
}

/**
 * The sub-graph of one slice: its nodes, its input (a boundary or the model's), its outputs (the
 * next boundary's tensors, or the model's). A boundary of several tensors enters as one
 * concatenated input tensor, and free linear copies give each of its tensors back its own id, so
 * the slice's nodes read them unchanged.
 */
export function sliceGraph(graph: QuantGraph, plan: SlicePlan, index: number): QuantGraph {
  const nodes = graph.nodes.slice(plan.start, plan.end);
  const outputs = plan.output
    ? plan.output.tensors.map((t, k) => ({
        name: `slice${index}.out${k}`,
        tensor: t,
        shape: [graph.tensors[t]!.lo.length],
        scale: graph.tensors[t]!.scale,
      }))
    : graph.outputs;
  const b = plan.input;
  if (!b) return { ...graph, nodes, outputs };
  const encoding = {
    name: `slice${index}.in`,
    shape: [b.size],
    bits: b.bits,
    scale: b.scale,
    min: b.min,
    max: b.max,
    range: [b.min / 2 ** b.scale, b.max / 2 ** b.scale] as [number, number],
  };
  if (b.tensors.length === 1)
    return { ...graph, nodes, outputs, input: { ...encoding, tensor: b.tensors[0]! } };
  const cat = graph.tensors.length;
  const parts = b.tensors.map((t) => graph.tensors[t]!);
  const tensors: QTensor[] = [
    ...graph.tensors,
    {
      id: cat,
      name: `slice${index}.in`,
      scale: 0,
      lo: parts.flatMap((t) => t.lo),
      hi: parts.flatMap((t) => t.hi),
    },
  ];
  let offset = 0;
  const copies: QLinear[] = parts.map((t) => {
    const n = t.lo.length;
    const node: QLinear = {
      kind: 'linear',
      onnx: ['slice boundary'],
      output: t.id,
      inputs: [cat],
      rowPtr: Int32Array.from({ length: n + 1 }, (_, i) => i),
      src: new Int32Array(n),
      idx: Int32Array.from({ length: n }, (_, i) => offset + i),
      w: new Array<bigint>(n).fill(1n),
      bias: new Array<bigint>(n).fill(0n),
    };
    offset += n;
    return node;
  });
  return { ...graph, tensors, nodes: [...copies, ...nodes], outputs, input: { ...encoding, tensor: cat } };
}
