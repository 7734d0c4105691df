import { InvalidInputError } from '../../protocol/errors.ts';
import type { QLinear, QNode, QTensor, QuantGraph } from './quantGraph.ts';
import { planSlices, qNodeInputs, type SlicePlan } from './slicePlan.ts';

/**
 * Splitting one layer across slices: a node whose constraints exceed `target` is rewritten as
 * parts that each compute a contiguous range of output elements, followed by a free linear copy
 * that joins the parts into the original output tensor (so every later node reads it unchanged).
 * Between the parts the slice planner may cut: what is live there is the layer's input and the
 * parts done so far.
 *
 * Row layers (rescale, fn, rsqrt, max-pool: one input, each output element reading known input
 * elements) are split together with the linear layer that alone feeds them and the row layers that
 * alone read them after (see splitLayers), each part computing only the rows it needs (shared rows
 * are recomputed, for free: they are linear); a row layer fed by anything else reads its rows
 * through a free copy (a max-pool reads its windows of the whole input). Products and divisions
 * keep their index maps, restricted to the part's rows. Arg-max (a model output) is never split.
 * The result computes exactly what the graph computes, on every tensor it still produces.
 */

/** Kinds whose output elements can be computed in independent ranges. */
const SPLITTABLE = new Set<QNode['kind']>(['rescale', 'fn', 'rsqrt', 'maxpool', 'mul', 'div']);

export interface SplitResult {
  readonly graph: QuantGraph;
  /** Nodes of the original graph that were split, and into how many parts. */
  readonly split: readonly { readonly node: number; readonly parts: number }[];
}

/** Nodes reading one input whose output rows each read known input rows. */
type RowNode = Extract<QNode, { kind: 'rescale' | 'fn' | 'rsqrt' | 'maxpool' }>;
const isRowNode = (n: QNode | undefined): n is RowNode =>
  n?.kind === 'rescale' || n?.kind === 'fn' || n?.kind === 'rsqrt' || n?.kind === 'maxpool';

/** The input rows a row node reads for its output rows `rows` (sorted, unique). */
function inputRows(node: RowNode, rows: readonly number[]): number[] {
  if (node.kind !== 'maxpool') return [...rows];
  return [...new Set(rows.flatMap((r) => Array.from(node.windows[r]!)))].sort((x, y) => x - y);
}

/**
 * Splits every splittable node costing more than `target`. A row node is split together with the
 * run of row nodes that alone read its output after it (a convolution's ReLU, its max-pool, the
 * rescale after the pool), and with the linear layer that alone feeds it: each part computes a
 * range of the run's last output from exactly the rows it needs, so only the run's last tensor
 * (the narrowest) is carried in parts across a cut, never the wide accumulators between.
 */
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
  const consumer = new Map<number, number>();
  graph.nodes.forEach((node, i) => {
    for (const t of qNodeInputs(node)) {
      uses.set(t, (uses.get(t) ?? 0) + 1);
      consumer.set(t, i);
    }
    producer.set(node.output, i);
  });
  const outputs = new Set(graph.outputs.map((o) => o.tensor));
  /** Read by exactly one node and not a model output: a run may pass through it. */
  const private_ = (t: number) => uses.get(t) === 1 && !outputs.has(t);
  /** Nodes taken into a split run (or fused into one): emitted, in parts, where the run's last node stood. */
  const claimed = new Set<number>();
  const replaced = new Map<number, QNode[]>();
  const split: { node: number; parts: number }[] = [];
  graph.nodes.forEach((node, i) => {
    if (claimed.has(i) || !SPLITTABLE.has(node.kind) || costs[i]! <= target) return;
    if (node.kind === 'mul' || node.kind === 'div') {
      splitIndexed(node, i);
      return;
    }
    if (!isRowNode(node)) return;
    // the run: this node and the row nodes that alone read each output after it
    const run: number[] = [i];
    for (let t = node.output; private_(t) && isRowNode(graph.nodes[consumer.get(t)!]); ) {
      const next = consumer.get(t)!;
      if (claimed.has(next)) break;
      run.push(next);
      t = graph.nodes[next]!.output;
    }
    const p = producer.get(node.input);
    const source =
      p !== undefined && private_(node.input) && graph.nodes[p]!.kind === 'linear' && !claimed.has(p)
        ? (graph.nodes[p] as QLinear)
        : undefined;
    const cost = run.reduce((s, k) => s + costs[k]!, 0);
    const lastNode = graph.nodes[run[run.length - 1]!] as RowNode;
    const out = tensors[lastNode.output]!;
    const n = out.lo.length;
    const parts = partRanges(n, cost, target);
    if (parts.length < 2) return;
    const emitted: QNode[] = [];
    const pieces: number[] = [];
    for (const [a, b] of parts) {
      const tag = `part ${pieces.length + 1} of ${parts.length}`;
      // rows of each run node's output this part needs, last to first
      const rows: number[][] = [];
      rows[run.length - 1] = Array.from({ length: b - a }, (_, k) => a + k);
      for (let k = run.length - 1; k > 0; k--)
        rows[k - 1] = inputRows(graph.nodes[run[k]!] as RowNode, rows[k]!);
      const first = graph.nodes[run[0]!] as RowNode;
      const need = inputRows(first, rows[0]!);
      // the first node's input: the fused linear's rows, a copy of the rows, or (max-pool) as it is
      let input = first.input;
      let at: ((r: number) => number) | undefined;
      if (source || first.kind !== 'maxpool') {
        input = gatherTensor(tensors, tensors[first.input]!, need);
        emitted.push(source ? gatherRows(source, need, input) : copyRows(first.input, need, input));
        const pos = new Map(need.map((r, k) => [r, k]));
        at = (r) => pos.get(r)!;
      }
      run.forEach((k, j) => {
        const rn = graph.nodes[k] as RowNode;
        const output =
          j === run.length - 1
            ? addTensor(out, a, b, '#')
            : gatherTensor(tensors, tensors[rn.output]!, rows[j]!);
        const onnx = [...rn.onnx, tag];
        if (rn.kind === 'maxpool') {
          const windows = rows[j]!.map((r) => rn.windows[r]!);
          const remap = at;
          emitted.push({
            ...rn,
            onnx,
            input,
            output,
            windows: remap ? windows.map((w) => w.map((r) => remap(r))) : windows,
          });
        } else emitted.push({ ...rn, onnx, input, output });
        const pos = new Map(rows[j]!.map((r, q) => [r, q]));
        at = (r) => pos.get(r)!;
        input = output;
      });
      pieces.push(input);
    }
    emitted.push(concat(lastNode, pieces, tensors));
    for (const k of run) claimed.add(k);
    if (source) claimed.add(p!);
    replaced.set(run[run.length - 1]!, emitted);
    split.push({ node: i, parts: pieces.length });
  });
  if (split.length === 0) return { graph, split };
  const nodes = graph.nodes.flatMap((node, i) => replaced.get(i) ?? (claimed.has(i) ? [] : [node]));
  return { graph: { ...graph, tensors, nodes }, split };

  /** A product or division: parts keep its index maps, restricted to their rows. */
  function splitIndexed(node: Extract<QNode, { kind: 'mul' | 'div' }>, i: number): void {
    const out = tensors[node.output]!;
    const n = out.lo.length;
    const parts = partRanges(n, costs[i]!, target);
    if (parts.length < 2) return;
    const emitted: QNode[] = [];
    const pieces: number[] = [];
    for (const [a, b] of parts) {
      const piece = addTensor(out, a, b, '#');
      pieces.push(piece);
      const onnx = [...node.onnx, `part ${pieces.length} of ${parts.length}`];
      emitted.push(
        node.kind === 'mul'
          ? { ...node, onnx, ia: node.ia.slice(a, b), ib: node.ib.slice(a, b), output: piece }
          : { ...node, onnx, inum: node.inum.slice(a, b), iden: node.iden.slice(a, b), output: piece },
      );
    }
    emitted.push(concat(node, pieces, tensors));
    replaced.set(i, emitted);
    split.push({ node: i, parts: pieces.length });
  }
}

/** Equal ranges [a, b) of n output rows, as many as keep a part's cost near `target` (at most n). */
function partRanges(n: number, cost: number, target: number): [number, number][] {
  const size = Math.ceil(n / Math.min(n, Math.ceil(cost / target)));
  const out: [number, number][] = [];
  for (let a = 0; a < n; a += size) out.push([a, Math.min(n, a + size)]);
  return out;
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

/** A free copy of the given elements of `input` into `output`. */
function copyRows(input: number, rows: readonly number[], output: number): QLinear {
  const n = rows.length;
  return {
    kind: 'linear',
    onnx: [`copy of ${n} elements`],
    output,
    inputs: [input],
    rowPtr: Int32Array.from({ length: n + 1 }, (_, i) => i),
    src: new Int32Array(n),
    idx: Int32Array.from(rows),
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
