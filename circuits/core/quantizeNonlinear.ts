import { UnsupportedOpError } from '../../protocol/errors.ts';
import type { DivNode, FloatNode, FnNode, MulNode, RsqrtNode, SoftmaxNode } from './floatGraph.ts';
import { EXP_MAX_INPUT, FN_INPUT_SCALE, type FnSpec, type FnTable, fitFnTable, fnSpec } from './fnApprox.ts';
import { divValue, maxBig, minBig, type QNode, type QTensor, rsqrtValue } from './quantGraph.ts';

/** What the non-linear quantizers need from quantize(): tensors so far and a way to add more. */
export interface QuantContext {
  readonly tensors: readonly QTensor[];
  readonly nodes: QNode[];
  readonly activationBits: number;
  addTensor(name: string, scale: number, lo: bigint[], hi: bigint[]): number;
  /** The quantized tensor of a float tensor as produced (accumulators and products at full scale). */
  raw(t: number): number;
  /** The same at its calibrated activation scale (one rescale shared by all consumers). */
  settled(t: number): number;
  /** Largest |value| the float tensor took in calibration. */
  maxAbs(t: number): number;
  nameOf(t: number): string;
}

type NonlinearNode = MulNode | FnNode | DivNode | RsqrtNode | SoftmaxNode;

/** Quantizes one non-linear float node; returns the quantized tensor that stands for its output. */
export function quantizeNonlinear(ctx: QuantContext, node: FloatNode): number {
  switch (node.kind) {
    case 'mul':
      return quantizeMul(ctx, node);
    case 'fn':
      return quantizeFn(ctx, node);
    case 'div':
      return quantizeDiv(ctx, node);
    case 'rsqrt':
      return quantizeRsqrt(ctx, node);
    case 'softmax':
      return quantizeSoftmax(ctx, node);
    default:
      throw new Error(`quantizeNonlinear: ${node.kind} is not a non-linear node`);
  }
}

/** Output scale of a function whose values are at most 2^log2Max in magnitude. */
function fnOutScale(ctx: QuantContext, log2Max: number): number {
  return ctx.activationBits - 1 - Math.max(0, Math.ceil(log2Max));
}

const tables = new Map<string, FnTable>();
function tableFor(spec: FnSpec, sIn: number, sOut: number): FnTable {
  const key = `${spec.name}/${spec.log2Length}/${sIn}/${sOut}`;
  let t = tables.get(key);
  if (!t) {
    t = fitFnTable(spec, sIn, sOut);
    tables.set(key, t);
  }
  return t;
}

function quantizeFn(ctx: QuantContext, node: NonlinearNode & FnNode): number {
  const x = ctx.tensors[ctx.raw(node.input)]!;
  const realHi = Number(maxBig(x.hi)) / 2 ** x.scale;
  if (node.fn === 'exp' && realHi > EXP_MAX_INPUT) {
    throw new UnsupportedOpError(
      'Exp',
      node.onnx.at(-1) ?? '?',
      `its input may reach ${realHi.toFixed(1)}; zkinfer proves exp on inputs up to ${EXP_MAX_INPUT} (and inside Softmax, whose inputs it shifts to ≤ 0)`,
    );
  }
  const spec = fnSpec(node.fn, realHi);
  const sOut = fnOutScale(ctx, node.fn === 'exp' ? Math.log2(Math.exp(Math.max(0, realHi))) : 0);
  return emitFn(ctx, x, spec, sOut, ctx.nameOf(node.output), node.onnx);
}

/** Emits a table function on x (any scale: the template rounds finer inputs, widens coarser ones). */
function emitFn(
  ctx: QuantContext,
  x: QTensor,
  spec: FnSpec,
  sOut: number,
  name: string,
  onnx: readonly string[],
): number {
  const sIn = FN_INPUT_SCALE;
  const table = tableFor(spec, sIn, sOut);
  const up = Math.max(0, sIn - x.scale);
  const k = Math.max(0, x.scale - sIn);
  const offset = -table.w0 * (1n << BigInt(k)) + (k > 0 ? 1n << BigInt(k - 1) : 0n);
  const n = x.lo.length;
  const out = ctx.addTensor(
    name,
    sOut,
    new Array<bigint>(n).fill(table.outLo),
    new Array<bigint>(n).fill(table.outHi),
  );
  ctx.nodes.push({ kind: 'fn', onnx, input: x.id, output: out, up, k, offset, table });
  return out;
}

function productBounds(alo: bigint, ahi: bigint, blo: bigint, bhi: bigint): [bigint, bigint] {
  const c = [alo * blo, alo * bhi, ahi * blo, ahi * bhi];
  return [minBig(c), maxBig(c)];
}

function quantizeMul(ctx: QuantContext, node: MulNode): number {
  const a = ctx.tensors[ctx.settled(node.a)]!;
  const b = ctx.tensors[ctx.settled(node.b)]!;
  const lo: bigint[] = [];
  const hi: bigint[] = [];
  node.ia.forEach((i, r) => {
    const j = node.ib[r]!;
    if (a.id === b.id && i === j) {
      // a square: never negative
      const [l, h] = [a.lo[i]!, a.hi[i]!];
      const m = l * l > h * h ? l * l : h * h;
      lo.push(l <= 0n && h >= 0n ? 0n : l * l < h * h ? l * l : h * h);
      hi.push(m);
    } else {
      const [l, h] = productBounds(a.lo[i]!, a.hi[i]!, b.lo[j]!, b.hi[j]!);
      lo.push(l);
      hi.push(h);
    }
  });
  const out = ctx.addTensor(ctx.nameOf(node.output), a.scale + b.scale, lo, hi);
  ctx.nodes.push({ kind: 'mul', onnx: node.onnx, a: a.id, b: b.id, ia: node.ia, ib: node.ib, output: out });
  return out;
}

function divBounds(nlo: bigint, nhi: bigint, dlo: bigint, dhi: bigint, k: number): [bigint, bigint] {
  const q = [divValue(nlo, dlo, k), divValue(nlo, dhi, k), divValue(nhi, dlo, k), divValue(nhi, dhi, k)];
  return [minBig(q), maxBig(q)];
}

function quantizeDiv(ctx: QuantContext, node: DivNode): number {
  const n = ctx.tensors[ctx.settled(node.num)]!;
  const d = ctx.tensors[ctx.settled(node.den)]!;
  const target = fnOutScale(ctx, Math.log2(Math.max(1e-30, ctx.maxAbs(node.output))));
  const k = Math.max(0, target - n.scale + d.scale);
  const lo: bigint[] = [];
  const hi: bigint[] = [];
  node.inum.forEach((i, r) => {
    const j = node.iden[r]!;
    if (d.lo[j]! < 1n) {
      throw new UnsupportedOpError(
        'Div',
        node.onnx.at(-1) ?? '?',
        `the divisor "${ctx.nameOf(node.den)}" may be zero or negative (its quantized interval starts at ${d.lo[j]}); zkinfer divides only by provably positive tensors`,
      );
    }
    const [l, h] = divBounds(n.lo[i]!, n.hi[i]!, d.lo[j]!, d.hi[j]!, k);
    lo.push(l);
    hi.push(h);
  });
  const out = ctx.addTensor(ctx.nameOf(node.output), n.scale - d.scale + k, lo, hi);
  ctx.nodes.push({
    kind: 'div',
    onnx: node.onnx,
    num: n.id,
    den: d.id,
    inum: node.inum,
    iden: node.iden,
    k,
    output: out,
  });
  return out;
}

function quantizeRsqrt(ctx: QuantContext, node: RsqrtNode): number {
  // the variance at full precision: rsqrt's cost grows with its bits, but less than a rescale's
  const v = ctx.tensors[ctx.raw(node.input)]!;
  const up = ((v.scale % 2) + 2) % 2; // an even scale, so that sqrt halves it exactly
  const sv = v.scale + up;
  const vlo = minBig(v.lo) << BigInt(up);
  if (vlo < 0n) {
    throw new UnsupportedOpError(
      'Sqrt',
      node.onnx.at(-1) ?? '?',
      `its input "${ctx.nameOf(node.input)}" may be negative (quantized lower bound ${vlo}); zkinfer takes square roots of variances and other provably non-negative tensors`,
    );
  }
  // a zero variance (eps rounded away) would divide by zero: one quantum more keeps v ≥ 1
  const add = vlo === 0n ? 1n : 0n;
  const sy = fnOutScale(ctx, Math.log2(Math.max(1e-30, ctx.maxAbs(node.output))));
  const K = Math.max(0, sy + sv / 2);
  const lo = v.hi.map((h) => rsqrtValue((h << BigInt(up)) + add, K));
  const hi = v.lo.map((l) => rsqrtValue((l << BigInt(up)) + add, K));
  const out = ctx.addTensor(ctx.nameOf(node.output), K - sv / 2, lo, hi);
  ctx.nodes.push({ kind: 'rsqrt', onnx: node.onnx, input: v.id, up, add, K, output: out });
  return out;
}

/**
 * softmax(x)_i = e_i / Σ e over the group, e_i = exp(x_i − max): MaxHint proves the max (so every
 * exponent is ≤ 0 and the window of exp is [−8, 0]), the sum is linear, each quotient a DivFloor
 * rounded to 2^−(activationBits − 1).
 */
function quantizeSoftmax(ctx: QuantContext, node: SoftmaxNode): number {
  const x = ctx.tensors[ctx.raw(node.input)]!;
  const name = ctx.nameOf(node.output);
  const groups = node.groups;
  const groupOf = new Int32Array(x.lo.length).fill(-1);
  groups.forEach((g, gi) => {
    for (const i of g) groupOf[i] = gi;
  });
  const m = ctx.addTensor(
    `${name}/max`,
    x.scale,
    groups.map((g) => maxBig(Array.from(g, (i) => x.lo[i]!))),
    groups.map((g) => maxBig(Array.from(g, (i) => x.hi[i]!))),
  );
  ctx.nodes.push({ kind: 'maxpool', onnx: node.onnx, input: x.id, output: m, windows: groups });
  const mt = ctx.tensors[m]!;
  const n = x.lo.length;
  // d_i = x_i − max ≤ 0: MaxHint proves max ≥ x_i, so the upper bound 0 is a fact, not a guess
  const rowPtr = Int32Array.from({ length: n + 1 }, (_, r) => 2 * r);
  const src = Int32Array.from({ length: 2 * n }, (_, e) => e % 2);
  const idx = Int32Array.from({ length: 2 * n }, (_, e) => (e % 2 === 0 ? e / 2 : groupOf[(e - 1) / 2]!));
  const w = Array.from({ length: 2 * n }, (_, e) => (e % 2 === 0 ? 1n : -1n));
  const dLo = Array.from({ length: n }, (_, i) => x.lo[i]! - mt.hi[groupOf[i]!]!);
  const dHi = Array.from({ length: n }, (_, i) => {
    const h = x.hi[i]! - mt.lo[groupOf[i]!]!;
    return h < 0n ? h : 0n;
  });
  const d = ctx.addTensor(`${name}/shifted`, x.scale, dLo, dHi);
  ctx.nodes.push({
    kind: 'linear',
    onnx: node.onnx,
    inputs: [x.id, m],
    output: d,
    rowPtr,
    src,
    idx,
    w,
    bias: new Array<bigint>(n).fill(0n),
  });
  const sOut = fnOutScale(ctx, 0);
  const e = emitFn(ctx, ctx.tensors[d]!, fnSpec('exp', 0), sOut, `${name}/exp`, node.onnx);
  const et = ctx.tensors[e]!;
  // Σ e per group
  const sumRowPtr = new Int32Array(groups.length + 1);
  groups.forEach((g, gi) => {
    sumRowPtr[gi + 1] = sumRowPtr[gi]! + g.length;
  });
  const sumIdx = Int32Array.from(groups.flatMap((g) => Array.from(g)));
  const s = ctx.addTensor(
    `${name}/sum`,
    sOut,
    groups.map((g) => Array.from(g, (i) => et.lo[i]!).reduce((a, b) => a + b, 0n)),
    groups.map((g) => Array.from(g, (i) => et.hi[i]!).reduce((a, b) => a + b, 0n)),
  );
  ctx.nodes.push({
    kind: 'linear',
    onnx: node.onnx,
    inputs: [e],
    output: s,
    rowPtr: sumRowPtr,
    src: new Int32Array(sumIdx.length),
    idx: sumIdx,
    w: new Array<bigint>(sumIdx.length).fill(1n),
    bias: new Array<bigint>(groups.length).fill(0n),
  });
  // the group's max contributes exp(0) = 1, so the sum is ≥ 2^sOut and every quotient is in [0, 2^k]
  const k = ctx.activationBits - 1;
  const out = ctx.addTensor(
    name,
    k,
    new Array<bigint>(n).fill(0n),
    new Array<bigint>(n).fill(1n << BigInt(k)),
  );
  ctx.nodes.push({
    kind: 'div',
    onnx: node.onnx,
    num: e,
    den: s,
    inum: Int32Array.from({ length: n }, (_, i) => i),
    iden: groupOf,
    k,
    output: out,
  });
  return out;
}
