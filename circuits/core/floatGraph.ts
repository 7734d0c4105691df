/**
 * The float intermediate representation a model is lowered to. Every linear op (Gemm, MatMul, Conv,
 * BatchNormalization, AveragePool, Pad, Add/Sub/Mul/Div by constants, Transpose) becomes a sparse
 * linear map, so that consecutive linear ops compose into one and cost no constraints.
 * Shape-only ops (Reshape, Flatten, Squeeze, ...) are views: row-major order is unchanged.
 */

/** Sparse rows (CSR): row r uses entries rowPtr[r] .. rowPtr[r+1]-1; entry e reads element idx[e]
 * of input number src[e] and multiplies it by w[e]. */
export interface LinearMap {
  readonly rows: number;
  readonly rowPtr: Int32Array;
  readonly src: Int32Array;
  readonly idx: Int32Array;
  readonly w: Float64Array;
}

export interface FloatTensor {
  readonly id: number;
  readonly name: string;
  /** Number of elements (the shape travels with each use, since views reshape freely). */
  readonly size: number;
}

interface NodeBase {
  /** ONNX node names this IR node came from (several after composition). */
  readonly onnx: readonly string[];
  readonly output: number;
}

export interface LinearNode extends NodeBase {
  readonly kind: 'linear';
  readonly inputs: readonly number[];
  readonly map: LinearMap;
  readonly bias: Float64Array;
}
export interface ReluNode extends NodeBase {
  readonly kind: 'relu';
  readonly input: number;
}
/** Each output element is the max over its window of input elements (padding never wins). */
export interface MaxPoolNode extends NodeBase {
  readonly kind: 'maxpool';
  readonly input: number;
  readonly windows: readonly Int32Array[];
}
/** Each output element is the position (0-based, first one on ties) of the max within its group. */
export interface ArgMaxNode extends NodeBase {
  readonly kind: 'argmax';
  readonly input: number;
  readonly groups: readonly Int32Array[];
}
/** out[i] = a[ia[i]] · b[ib[i]]: a product of two computed tensors (gates, attention, squares). */
export interface MulNode extends NodeBase {
  readonly kind: 'mul';
  readonly a: number;
  readonly b: number;
  readonly ia: Int32Array;
  readonly ib: Int32Array;
}
/** A smooth element-wise function, proven as a piecewise quadratic (see fnApprox.ts). */
export interface FnNode extends NodeBase {
  readonly kind: 'fn';
  readonly fn: FnName;
  readonly input: number;
}
/** out[i] = num[inum[i]] / den[iden[i]]; the denominator must be provably ≥ one quantum. */
export interface DivNode extends NodeBase {
  readonly kind: 'div';
  readonly num: number;
  readonly den: number;
  readonly inum: Int32Array;
  readonly iden: Int32Array;
}
/** out[i] = 1 / sqrt(in[i]) for in[i] > 0 (normalisations: LayerNorm's Div by Sqrt). */
export interface RsqrtNode extends NodeBase {
  readonly kind: 'rsqrt';
  readonly input: number;
}
/** Softmax over each group of input elements (max-subtracted exp, sum, division). */
export interface SoftmaxNode extends NodeBase {
  readonly kind: 'softmax';
  readonly input: number;
  readonly groups: readonly Int32Array[];
}
export type FnName = 'sigmoid' | 'tanh' | 'erf' | 'exp';
export type FloatNode =
  | LinearNode
  | ReluNode
  | MaxPoolNode
  | ArgMaxNode
  | MulNode
  | FnNode
  | DivNode
  | RsqrtNode
  | SoftmaxNode;

/** The tensors a node reads. */
export function nodeInputs(n: FloatNode): readonly number[] {
  switch (n.kind) {
    case 'linear':
      return n.inputs;
    case 'mul':
      return [n.a, n.b];
    case 'div':
      return [n.num, n.den];
    default:
      return [n.input];
  }
}

export interface GraphOutput {
  readonly name: string;
  readonly tensor: number;
  readonly shape: readonly number[];
}

export interface FloatGraph {
  readonly tensors: readonly FloatTensor[];
  /** Topologically ordered. */
  readonly nodes: readonly FloatNode[];
  readonly input: { readonly name: string; readonly tensor: number; readonly shape: readonly number[] };
  readonly outputs: readonly GraphOutput[];
  /** Things the lowering did that a user should know (e.g. a stripped Softmax). */
  readonly notes: readonly string[];
}

/** Where a row's terms are written. */
export interface RowWriter {
  add(src: number, idx: number, w: number): void;
}

/** Growable CSR builder. */
export class LinearMapBuilder implements RowWriter {
  private readonly rowPtr: number[] = [0];
  private readonly src: number[] = [];
  private readonly idx: number[] = [];
  private readonly w: number[] = [];

  /** Adds a term to the current row; zero weights are dropped. */
  add(src: number, idx: number, w: number): void {
    if (w === 0) return;
    this.src.push(src);
    this.idx.push(idx);
    this.w.push(w);
  }

  endRow(): void {
    this.rowPtr.push(this.src.length);
  }

  build(): LinearMap {
    return {
      rows: this.rowPtr.length - 1,
      rowPtr: Int32Array.from(this.rowPtr),
      src: Int32Array.from(this.src),
      idx: Int32Array.from(this.idx),
      w: Float64Array.from(this.w),
    };
  }
}

/** Nodes that read a tensor, by tensor id. */
export function consumersOf(nodes: readonly FloatNode[]): Map<number, FloatNode[]> {
  const map = new Map<number, FloatNode[]>();
  for (const n of nodes) {
    for (const t of nodeInputs(n)) {
      const list = map.get(t) ?? [];
      if (!list.includes(n)) list.push(n);
      map.set(t, list);
    }
  }
  return map;
}
