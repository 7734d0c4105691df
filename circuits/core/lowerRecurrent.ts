import { ModelError, UnsupportedOpError } from '../../protocol/errors.ts';
import { attrInt, attrString } from '../onnx/attributes.ts';
import type { ConstValue } from './foldConstant.ts';
import {
  constIn,
  type DynValue,
  dynOf,
  emitAdd,
  emitFn,
  emitLinear,
  emitMul,
  type LowerContext,
  type Value,
} from './lowerContext.ts';

/**
 * ONNX LSTM and GRU, one layer, forward, batch 1, default activations (as PyTorch exports them),
 * unrolled over the sequence length fixed by the input shape. Each gate is a linear map of x_t and
 * h_{t−1} (free) followed by a table function; the cell and state updates are products of two
 * activations. A constant initial state folds into the first step's biases.
 */
export const RECURRENT_OPS: ReadonlySet<string> = new Set(['LSTM', 'GRU']);

const DEFAULT_ACTIVATIONS: Readonly<Record<string, readonly string[]>> = {
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
};

interface Recurrence {
  readonly H: number;
  readonly I: number;
  readonly seq: number;
  readonly x: DynValue;
  /** Flat index of x_t[i] in the input tensor (the same for both layouts at batch 1). */
  readonly xAt: (t: number, i: number) => number;
  readonly W: ConstValue;
  readonly R: ConstValue;
  readonly B: ConstValue | undefined;
  readonly layout: number;
}

export function lowerRecurrent(ctx: LowerContext, ins: readonly (Value | undefined)[]): Value[] {
  const { node } = ctx;
  const unsupported = (what: string) => new UnsupportedOpError(node.opType, node.name, what);
  const direction = attrString(node, 'direction', 'forward');
  if (direction !== 'forward') throw unsupported(`direction "${direction}" is not supported (only forward)`);
  const acts = node.attributes.get('activations')?.strings;
  const defaults = DEFAULT_ACTIVATIONS[node.opType]!;
  if (acts && acts.join() !== defaults.join()) {
    throw unsupported(
      `activations [${acts.join(', ')}] are not supported (only the defaults ${defaults.join(', ')})`,
    );
  }
  if (node.attributes.has('clip')) throw unsupported('cell clipping (clip) is not supported');
  if (attrInt(node, 'input_forget', 0) !== 0) throw unsupported('input_forget=1 is not supported');
  const layout = attrInt(node, 'layout', 0);
  const x = dynOf(node, ins[0]);
  if (x.shape.length !== 3)
    throw new ModelError('SHAPE_MISMATCH', `${node.opType} node "${node.name}": X must be 3-D`);
  const [seq, batch, I] = (layout === 0 ? x.shape : [x.shape[1], x.shape[0], x.shape[2]]) as [
    number,
    number,
    number,
  ];
  if (batch !== 1) throw unsupported(`batch ${batch} is not supported (zkinfer proves one sample)`);
  const gates = node.opType === 'LSTM' ? 4 : 3;
  const W = constIn(node, ins[1], 'W');
  const R = constIn(node, ins[2], 'R');
  const B = ins[3] ? constIn(node, ins[3], 'B') : undefined;
  const H = attrInt(node, 'hidden_size', R.shape[2] ?? 0);
  if (W.shape.join() !== [1, gates * H, I].join() || R.shape.join() !== [1, gates * H, H].join()) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `${node.opType} node "${node.name}": W [${W.shape}] and R [${R.shape}] do not fit hidden size ${H} and input size ${I}`,
    );
  }
  if (ins[4]) {
    const lens = constIn(node, ins[4], 'sequence_lens');
    if (!Array.from(lens.data).every((l) => l === seq)) {
      throw unsupported('sequence_lens shorter than the input sequence is not supported');
    }
  }
  if (node.opType === 'LSTM' && ins[7]) throw unsupported('peephole weights (P) are not supported');
  const rec: Recurrence = {
    H,
    I,
    seq,
    x,
    xAt: (t, i) => t * I + i, // batch 1: [seq, 1, I] and [1, seq, I] lay x_t out alike
    W,
    R,
    B,
    layout,
  };
  const zeros: ConstValue = { kind: 'const', shape: [H], data: new Float64Array(H), int: false };
  const h0 = ins[5] ? flatState(ctx, constIn(node, ins[5], 'initial_h'), H) : zeros;
  if (node.opType === 'LSTM') {
    const c0 = ins[6] ? flatState(ctx, constIn(node, ins[6], 'initial_c'), H) : zeros;
    return unrollLstm(ctx, rec, h0, c0);
  }
  return unrollGru(ctx, rec, h0, attrInt(node, 'linear_before_reset', 0) === 1);
}

function flatState(ctx: LowerContext, v: ConstValue, H: number): ConstValue {
  if (v.data.length !== H) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `${ctx.node.opType} node "${ctx.node.name}": an initial state of shape [${v.shape}] does not fit hidden size ${H}`,
    );
  }
  return { ...v, shape: [H] };
}

/**
 * Gate g's pre-activation at step t: W_g x_t + Wb_g + Rb_g (+ R_g h when `h` is given; a constant h
 * folds into the bias). Rows of W, R and B are taken at gate offset g·H.
 */
function gatePre(
  ctx: LowerContext,
  rec: Recurrence,
  g: number,
  t: number,
  h: Value | undefined,
  name: string,
  withRecurrentBias = true,
): DynValue {
  const { H, I, W, R, B } = rec;
  const gates = W.shape[1]! / H;
  const inputs: DynValue[] = [rec.x];
  if (h?.kind === 'dyn') inputs.push(h);
  return emitLinear(
    ctx,
    inputs,
    [H],
    (j, b) => {
      const row = g * H + j;
      for (let i = 0; i < I; i++) b.add(0, rec.xAt(t, i), W.data[row * I + i]!);
      let bias = B ? B.data[row]! + (withRecurrentBias ? B.data[gates * H + row]! : 0) : 0;
      if (h) {
        for (let k = 0; k < H; k++) {
          const r = R.data[row * H + k]!;
          if (h.kind === 'dyn') b.add(1, k, r);
          else bias += r * h.data[k]!;
        }
      }
      return bias;
    },
    name,
  );
}

/** Outputs Y ([seq, 1, 1, H], or [1, seq, 1, H] in layout 1), Y_h and Y_c ([1, 1, H]). */
function stackOutputs(ctx: LowerContext, rec: Recurrence, hs: readonly DynValue[]): DynValue {
  const { H, seq } = rec;
  return emitLinear(
    ctx,
    hs,
    rec.layout === 0 ? [seq, 1, 1, H] : [1, seq, 1, H],
    (r, b) => {
      b.add(Math.floor(r / H), r % H, 1);
      return 0;
    },
    ctx.node.outputs[0] || `${ctx.node.name}/Y`,
  );
}

function unrollLstm(ctx: LowerContext, rec: Recurrence, h0: ConstValue, c0: ConstValue): Value[] {
  const name = ctx.node.name;
  let h: Value = h0;
  let c: Value = c0;
  const hs: DynValue[] = [];
  for (let t = 0; t < rec.seq; t++) {
    const at = `${name}/t${t}`;
    // ONNX gate order: input, output, forget, cell
    const i = emitFn(ctx, gatePre(ctx, rec, 0, t, h, `${at}/i-pre`), 'sigmoid', `${at}/i`);
    const o = emitFn(ctx, gatePre(ctx, rec, 1, t, h, `${at}/o-pre`), 'sigmoid', `${at}/o`);
    const f = emitFn(ctx, gatePre(ctx, rec, 2, t, h, `${at}/f-pre`), 'sigmoid', `${at}/f`);
    const g = emitFn(ctx, gatePre(ctx, rec, 3, t, h, `${at}/g-pre`), 'tanh', `${at}/g`);
    const kept = emitMul(ctx, f, c, `${at}/f*c`);
    const added = emitMul(ctx, i, g, `${at}/i*g`);
    const cNext: DynValue = emitAdd(ctx, kept, added, 1, `${at}/c`);
    const hNext = emitMul(ctx, o, emitFn(ctx, cNext, 'tanh', `${at}/tanh-c`), `${at}/h`);
    h = hNext;
    c = cNext;
    hs.push(hNext);
  }
  return [stackOutputs(ctx, rec, hs), asState(h, rec.H), asState(c, rec.H)];
}

function unrollGru(ctx: LowerContext, rec: Recurrence, h0: ConstValue, linearBeforeReset: boolean): Value[] {
  const name = ctx.node.name;
  const { H, B, R } = rec;
  let h: Value = h0;
  const hs: DynValue[] = [];
  for (let t = 0; t < rec.seq; t++) {
    const at = `${name}/t${t}`;
    // ONNX gate order: update (z), reset (r), hidden (h)
    const z = emitFn(ctx, gatePre(ctx, rec, 0, t, h, `${at}/z-pre`), 'sigmoid', `${at}/z`);
    const r = emitFn(ctx, gatePre(ctx, rec, 1, t, h, `${at}/r-pre`), 'sigmoid', `${at}/r`);
    let pre: DynValue;
    const rb = (j: number) => (B ? B.data[5 * H + j]! : 0);
    if (linearBeforeReset) {
      // tanh(W_h x + Wb_h + r ⊙ (R_h h + Rb_h))
      const recurrent = recurrentTerm(ctx, R, h, H, rb, `${at}/Rh`);
      const gated = emitMul(ctx, r, recurrent, `${at}/r*Rh`);
      pre = emitAdd(ctx, gatePre(ctx, rec, 2, t, undefined, `${at}/Wx`, false), gated, 1, `${at}/h-pre`);
    } else {
      // tanh(W_h x + R_h (r ⊙ h) + Rb_h + Wb_h)
      const reset = emitMul(ctx, r, h, `${at}/r*h`);
      pre = emitAdd(
        ctx,
        gatePre(ctx, rec, 2, t, undefined, `${at}/Wx`, false),
        recurrentTerm(ctx, R, reset, H, rb, `${at}/R(r*h)`),
        1,
        `${at}/h-pre`,
      );
    }
    const candidate = emitFn(ctx, pre, 'tanh', `${at}/h-cand`);
    // h' = (1 − z) ⊙ ĥ + z ⊙ h = ĥ + z ⊙ (h − ĥ)
    const delta = emitMul(ctx, z, emitAdd(ctx, h, candidate, -1, `${at}/h-minus-cand`), `${at}/z*delta`);
    const hNext = emitAdd(ctx, candidate, delta, 1, `${at}/h`);
    h = hNext;
    hs.push(hNext);
  }
  return [stackOutputs(ctx, rec, hs), asState(h, H)];
}

/** R_h v + bias for the hidden gate (rows 2H..3H of R); constant when v is. */
function recurrentTerm(
  ctx: LowerContext,
  R: ConstValue,
  v: Value,
  H: number,
  bias: (j: number) => number,
  name: string,
): Value {
  const row = (j: number, k: number) => R.data[(2 * H + j) * H + k]!;
  if (v.kind === 'const') {
    const data = Float64Array.from({ length: H }, (_, j) => {
      let s = bias(j);
      for (let k = 0; k < H; k++) s += row(j, k) * v.data[k]!;
      return s;
    });
    return { kind: 'const', shape: [H], data, int: false };
  }
  return emitLinear(
    ctx,
    [v],
    [H],
    (j, b) => {
      for (let k = 0; k < H; k++) b.add(0, k, row(j, k));
      return bias(j);
    },
    name,
  );
}

function asState(v: Value, H: number): Value {
  return { ...v, shape: [1, 1, H] };
}
