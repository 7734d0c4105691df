import { InvalidInputError } from '../../protocol/errors.ts';
import type { QLinear, QNode, QTensor, QuantGraph } from './quantGraph.ts';
import { planSlices, qNodeInputs, type SlicePlan } from './slicePlan.ts';

/**
 * Splitting one layer across slices: a node whose constraints exceed `target` is rewritten as
 * parts that each compute a contiguous range of its output elements, followed by a free linear
 * copy that concatenates the parts back into the node's own output tensor (so every later node
 * reads it unchanged). Between the parts the slice planner may cut: what is live there is the
 * layer's input and the parts done so far.
 *
 * Element-wise nodes (rescale, fn, rsqrt) and max-pools read one input: when it is a linear
 * layer's output read by nothing else, the linear layer is split with them (each part computes
 * only the accumulator rows its elements or windows read, recomputing shared rows for free), so
 * the wide accumulator never crosses a cut; otherwise an element-wise part reads its range through
 * a free copy, and a max-pool part its windows of the whole input. Products and divisions keep
 * their index maps, restricted to the part's rows. Arg-max (a model output) is never split.
 * The result computes exactly what the graph computes, tensor for tensor of the original ids.
 */

/** Kinds whose output elements can be computed in independent ranges. */
const SPLITTABLE = new Set<QNode['kind']>(['rescale', 'fn', 'rsqrt', 'maxpool', 'mul', 'div']);

export interface SplitResult {
  readonly graph: QuantGraph;
  /** Nodes of the original graph that were split, and into how many parts. */
  readonly split: readonly { readonly node: number; readonly parts: number }[];
}

/** Splits every splittable node costing more than `target` into parts of at most about `target`. */
export function splitLayers(graph: QuantGraph, costs: readonly number[], target: number): SplitResult {
  const tensors: QTensor[] = [...graph.tensors];
  const addTensor = (like: QTensor, a: number, b: number, tag: string): number => {
    const id = tensors.length;
    tensors.push({
      id,
      name: `${like.name}${tag}[${a}:${b}]`,
      scale: like.scale,
      lo: like.lo.slice(a, b),
      hi: like.hi.slice(a, b),
    });
    return id;
  };
  const uses = new Map<number, number>();
  const producer = new Map<number, number>();
  graph.nodes.forEach((node, i) => {
    for (const t of qNodeInputs(node)) uses.set(t, (uses.get(t) ?? 0) + 1);
    producer.set(node.output, i);
  });
  const outputs = new Set(graph.outputs.map((o) => o.tensor));
  const fused = new Set<number>();
  const replaced = new Map<number, QNode[]>();
  const split: { node: number; parts: number }[] = [];
  graph.nodes.forEach((node, i) => {
    if (!SPLITTABLE.has(node.kind) || costs[i]! <= target) return;
    const out = tensors[node.output]!;
    const n = out.lo.length;
    const parts = Math.min(n, Math.ceil(costs[i]! / target));
    if (parts < 2) return;
    // the linear producer of an element-wise node's input, when only this node reads it
    let source: QLinear | undefined;
    const oneInput =
      node.kind === 'rescale' || node.kind === 'fn' || node.kind === 'rsqrt' || node.kind === 'maxpool';
    if (oneInput && !outputs.has(node.input)) {
      const p = producer.get(node.input);
      const pn = p === undefined ? undefined : graph.nodes[p];
      if (pn?.kind === 'linear' && uses.get(node.input) === 1 && !fused.has(p!)) {
        source = pn;
        fused.add(p!);
      }
    }
    const size = Math.ceil(n / parts);
    const emitted: QNode[] = [];
    const pieces: number[] = [];
    for (let a = 0; a < n; a += size) {
      const b = Math.min(n, a + size);
      const piece = addTensor(out, a, b, '#');
      pieces.push(piece);
      const onnx = [...node.onnx, `part ${pieces.length} of ${parts}`];
      switch (node.kind) {
        case 'rescale':
        case 'fn':
        case 'rsqrt': {
          const x = tensors[node.input]!;
          const part = addTensor(x, a, b, source ? '#' : '@');
          emitted.push(source ? linearRows(source, a, b, part) : copyRows(node.input, a, b, part));
          emitted.push({ ...node, onnx, input: part, output: piece });
          break;
        }
        case 'maxpool': {
          const windows = node.windows.slice(a, b);
          if (!source) {
            emitted.push({ ...node, onnx, windows, output: piece });
            break;
          }
          // the accumulator rows these windows read, computed here and read by position
          const rows = [...new Set(windows.flatMap((w) => Array.from(w)))].sort((x, y) => x - y);
          const at = new Map(rows.map((r, k) => [r, k]));
          const part = gatherTensor(tensors, tensors[node.input]!, rows);
          emitted.push(gatherRows(source, rows, part));
          emitted.push({
            ...node,
            onnx,
            input: part,
            windows: windows.map((w) => w.map((i) => at.get(i)!)),
            output: piece,
          });
          break;
        }
        case 'mul':
          emitted.push({ ...node, onnx, ia: node.ia.slice(a, b), ib: node.ib.slice(a, b), output: piece });
          break;
        case 'div':
          emitted.push({
            ...node,
            onnx,
            inum: node.inum.slice(a, b),
            iden: node.iden.slice(a, b),
            output: piece,
          });
          break;
        default:
          throw new Error(`unreachable: ${node.kind} is not splittable`);
      }
    }
    emitted.push(concat(node, pieces, tensors));
    replaced.set(i, emitted);
    split.push({ node: i, parts: pieces.length });
  });
  if (split.length === 0) return { graph, split };
  const nodes = graph.nodes.flatMap((node, i) => (fused.has(i) ? [] : (replaced.get(i) ?? [node])));
  return { graph: { ...graph, tensors, nodes }, split };
}

/** A new tensor of the given elements of `like`. */
function gatherTensor(tensors: QTensor[], like: QTensor, rows: readonly number[]): number {
  const id = tensors.length;
  tensors.push({
    id,
    name: `${like.name}#{${rows[0]}..${rows[rows.length - 1]}}`,
    scale: like.scale,
    lo: rows.map((r) => like.lo[r]!),
    hi: rows.map((r) => like.hi[r]!),
  });
  return id;
}

/** The given rows of a linear layer, in that order, writing `output`. */
function gatherRows(node: QLinear, rows: readonly number[], output: number): QLinear {
  const rowPtr = [0];
  const src: number[] = [];
  const idx: number[] = [];
  const w: bigint[] = [];
  for (const r of rows) {
    for (let e = node.rowPtr[r]!; e < node.rowPtr[r + 1]!; e++) {
      src.push(node.src[e]!);
      idx.push(node.idx[e]!);
      w.push(node.w[e]!);
    }
    rowPtr.push(src.length);
  }
  return {
    ...node,
    onnx: [...node.onnx, `${rows.length} rows`],
    output,
    rowPtr: Int32Array.from(rowPtr),
    src: Int32Array.from(src),
    idx: Int32Array.from(idx),
    w,
    bias: rows.map((r) => node.bias[r]!),
  };
}

/** Rows [a, b) of a linear layer, writing `output`. */
function linearRows(node: QLinear, a: number, b: number, output: number): QLinear {
  const from = node.rowPtr[a]!;
  const to = node.rowPtr[b]!;
  return {
    ...node,
    onnx: [...node.onnx, `rows ${a}-${b - 1}`],
    output,
    rowPtr: node.rowPtr.slice(a, b + 1).map((e) => e - from),
    src: node.src.slice(from, to),
    idx: node.idx.slice(from, to),
    w: node.w.slice(from, to),
    bias: node.bias.slice(a, b),
  };
}

/** A free copy of elements [a, b) of `input` into `output`. */
function copyRows(input: number, a: number, b: number, output: number): QLinear {
  const n = b - a;
  return {
    kind: 'linear',
    onnx: [`copy ${a}-${b - 1}`],
    output,
    inputs: [input],
    rowPtr: Int32Array.from({ length: n + 1 }, (_, i) => i),
    src: new Int32Array(n),
    idx: Int32Array.from({ length: n }, (_, i) => a + i),
    w: new Array<bigint>(n).fill(1n),
    bias: new Array<bigint>(n).fill(0n),
  };
}

/** The parts concatenated back into the split node's output tensor (a free linear copy). */
function concat(node: QNode, pieces: readonly number[], tensors: readonly QTensor[]): QLinear {
  const src: number[] = [];
  const idx: number[] = [];
  pieces.forEach((p, k) => {
    for (let i = 0; i < tensors[p]!.lo.length; i++) {
      src.push(k);
      idx.push(i);
    }
  });
  const n = src.length;
  return {
    kind: 'linear',
    onnx: [...node.onnx, `${pieces.length} parts joined`],
    output: node.output,
    inputs: [...pieces],
    rowPtr: Int32Array.from({ length: n + 1 }, (_, i) => i),
    src: Int32Array.from(src),
    idx: Int32Array.from(idx),
    w: new Array<bigint>(n).fill(1n),
    bias: new Array<bigint>(n).fill(0n),
  };
}

/** What the planner needs of a graph's generated circuit: constraints per node, input and outputs. */
export interface GraphCosts {
  readonly nodes: readonly number[];
  readonly input: number;
  readonly output: number;
}

/**
 * Plans slices under `budget`, splitting layers only when no plan of whole layers exists: layers
 * above half the budget are split into parts of at most a half, then a quarter, an eighth and a
 * sixteenth of it, until a plan fits (smaller parts let a cut fall nearer where the budget runs
 * out, but each cut carries the layer's input across). Returns the graph the plan indexes (the
 * split one, or the graph itself). Throws the planner's error, naming the layer, when nothing fits.
 */
export function planSlicesSplitting(
  graph: QuantGraph,
  costsOf: (g: QuantGraph) => GraphCosts,
  budget: number,
): { graph: QuantGraph; plans: SlicePlan[]; split: SplitResult['split'] } {
  const whole = costsOf(graph);
  try {
    return { graph, plans: planSlices(graph, whole.nodes, whole.input, whole.output, budget), split: [] };
  } catch (first) {
    if (!(first instanceof InvalidInputError)) throw first;
    let last: SplitResult | undefined;
    for (const fraction of [2, 4, 8, 16]) {
      const target = Math.max(1, Math.floor(budget / fraction));
      const s = splitLayers(graph, whole.nodes, target);
      if (s.split.length === 0 || (last && sameSplit(last, s))) continue;
      last = s;
      const c = costsOf(s.graph);
      try {
        return {
          graph: s.graph,
          plans: planSlices(s.graph, c.nodes, c.input, c.output, budget),
          split: s.split,
        };
      } catch (e) {
        if (!(e instanceof InvalidInputError)) throw e;
      }
    }
    throw new InvalidInputError(
      `${first.message} (splitting layers into parts of down to ${Math.floor(budget / 16)} constraints did not help: a cut carries the layer's input and the parts done, range-checked again in the next slice)`,
      'INVALID_OPTION',
    );
  }
}

function sameSplit(a: SplitResult, b: SplitResult): boolean {
  return a.split.length === b.split.length && a.split.every((s, i) => s.parts === b.split[i]!.parts);
}
