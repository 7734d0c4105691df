import { InvalidInputError } from '../../protocol/errors.ts';
import { POSEIDON_CONSTRAINTS } from './codegen.ts';
import { inputsPerLimb, poseidonChain } from './publicSignals.ts';
import { bitLength, maxBig, minBig, type QNode, type QuantGraph } from './quantGraph.ts';

/**
 * Cutting a quantized graph into slices that are each one circuit under a constraint budget.
 *
 * A cut after node i is allowed where exactly one computed tensor is live across it (produced at or
 * before i, used after i) and it is not a model output: that tensor is the boundary. The slice
 * before the cut publishes the Poseidon hash of the boundary packed as the next slice packs its
 * input, so consecutive proofs chain by equal hashes. Slices are cut greedily, each as long as its
 * predicted constraints (its layers, its input's range check and hash, its output's hash) fit.
 */

/** How a boundary tensor is range-checked and packed: `bits`-bit offsets from `min`. */
export interface BoundaryEncoding {
  readonly tensor: number;
  readonly size: number;
  readonly bits: number;
  readonly min: number;
  readonly max: number;
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

export function boundaryEncoding(graph: QuantGraph, tensor: number): BoundaryEncoding {
  const t = graph.tensors[tensor]!;
  const lo = minBig(t.lo);
  const hi = maxBig(t.hi);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (lo < -limit || hi > limit) {
    throw new InvalidInputError(
      `tensor ${t.name} spans [${lo}, ${hi}], too wide to be a slice boundary`,
      'INVALID_OPTION',
    );
  }
  return {
    tensor,
    size: t.lo.length,
    bits: Math.max(1, bitLength(hi - lo)),
    min: Number(lo),
    max: Number(hi),
    scale: t.scale,
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
 * For every cut position j (after nodes [0, j)), the single tensor live across it, or undefined
 * where the cut is not allowed (several live tensors, or a model output already produced).
 */
function cutBoundaries(graph: QuantGraph): (number | undefined)[] {
  const lastUse: number[] = [];
  graph.nodes.forEach((node, i) => {
    for (const t of qNodeInputs(node)) lastUse[t] = Math.max(lastUse[t] ?? -1, i);
  });
  const outputs = new Set(graph.outputs.map((o) => o.tensor));
  const live = new Set<number>();
  if ((lastUse[graph.input.tensor] ?? -1) >= 0) live.add(graph.input.tensor);
  let outputProduced = outputs.has(graph.input.tensor);
  const out: (number | undefined)[] = [undefined];
  graph.nodes.forEach((node, i) => {
    for (const t of qNodeInputs(node)) if (lastUse[t] === i) live.delete(t);
    if ((lastUse[node.output] ?? -1) > i) live.add(node.output);
    if (outputs.has(node.output)) outputProduced = true;
    out.push(!outputProduced && live.size === 1 ? [...live][0] : undefined);
  });
  return out;
}

/**
 * Plans slices under `budget` constraints: the fewest slices, then the fewest constraints in all
 * (a cut where the live tensor is narrow costs less on both sides). `nodeCosts[i]` is node i's
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
  // best[j]: fewest slices, then fewest constraints, covering nodes [0, j) and ending at cut j
  const best: ({ slices: number; cost: number; from: number } | undefined)[] = [
    { slices: 0, cost: 0, from: -1 },
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
      const cand = { slices: b.slices + 1, cost: b.cost + cost, from: i };
      const cur = best[j];
      if (!cur || cand.slices < cur.slices || (cand.slices === cur.slices && cand.cost < cur.cost))
        best[j] = cand;
    }
  }
  if (!best[n]) {
    // the furthest cut reached, and the layer at which a slice from there outgrows the budget
    const start = Math.max(...best.map((b, j) => (b ? j : 0)));
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

/** The sub-graph of one slice: its nodes, its input (a boundary or the model's), its outputs. */
export function sliceGraph(graph: QuantGraph, plan: SlicePlan, index: number): QuantGraph {
  const encodingOf = (b: BoundaryEncoding, name: string) => ({
    name,
    shape: [b.size],
    bits: b.bits,
    scale: b.scale,
    min: b.min,
    max: b.max,
    range: [b.min / 2 ** b.scale, b.max / 2 ** b.scale] as [number, number],
    tensor: b.tensor,
  });
  return {
    ...graph,
    nodes: graph.nodes.slice(plan.start, plan.end),
    input: plan.input ? encodingOf(plan.input, `slice${index}.in`) : graph.input,
    outputs: plan.output
      ? [
          {
            name: `slice${index}.out`,
            tensor: plan.output.tensor,
            shape: [plan.output.size],
            scale: plan.output.scale,
          },
        ]
      : graph.outputs,
  };
}
