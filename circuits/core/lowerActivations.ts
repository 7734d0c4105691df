import { ModelError, UnsupportedOpError } from '../../protocol/errors.ts';
import { attrFloat, attrString } from '../onnx/attributes.ts';
import type { ConstValue } from './foldConstant.ts';
import {
  constIn,
  type DynValue,
  dynOf,
  emitAffine,
  emitFn,
  emitLinear,
  emitMul,
  emitRelu,
  emitRsqrt,
  type LowerContext,
  type Value,
} from './lowerContext.ts';

/** Element-wise activations, each lowered to table functions, ReLUs, products and linear maps. */
export const ACTIVATION_OPS: ReadonlySet<string> = new Set([
  'Sigmoid',
  'Tanh',
  'Exp',
  'Erf',
  'Gelu',
  'LeakyRelu',
  'HardSigmoid',
  'HardSwish',
  'Clip',
  'Sqrt',
  'Reciprocal',
  'Pow',
  'Neg',
]);

export function lowerActivation(ctx: LowerContext, ins: readonly (Value | undefined)[]): Value[] {
  const { node } = ctx;
  const x = dynOf(node, ins[0]);
  switch (node.opType) {
    case 'Sigmoid':
      return [emitFn(ctx, x, 'sigmoid')];
    case 'Tanh':
      return [emitFn(ctx, x, 'tanh')];
    case 'Exp':
      return [emitFn(ctx, x, 'exp')];
    case 'Erf':
      return [emitFn(ctx, x, 'erf')];
    case 'Gelu': {
      if (attrString(node, 'approximate', 'none') !== 'none') {
        throw new UnsupportedOpError(
          'Gelu',
          node.name,
          'approximate="tanh" is not supported (the exact form is)',
        );
      }
      // x · ½ (1 + erf(x / √2))
      const e = emitFn(
        ctx,
        emitAffine(ctx, x, Math.SQRT1_2, 0, `${node.name}/scaled`),
        'erf',
        `${node.name}/erf`,
      );
      return [emitMul(ctx, x, emitAffine(ctx, e, 0.5, 0.5, `${node.name}/phi`))];
    }
    case 'LeakyRelu': {
      // α·x + (1 − α)·relu(x)
      const alpha = attrFloat(node, 'alpha', 0.01);
      const r = emitRelu(ctx, x, `${node.name}/relu`);
      return [
        emitLinear(ctx, [x, r], x.shape, (i, b) => {
          b.add(0, i, alpha);
          b.add(1, i, 1 - alpha);
          return 0;
        }),
      ];
    }
    case 'HardSigmoid':
      return [
        clip(ctx, emitAffine(ctx, x, attrFloat(node, 'alpha', 0.2), attrFloat(node, 'beta', 0.5)), 0, 1),
      ];
    case 'HardSwish':
      // x · clip(x/6 + ½, 0, 1)
      return [emitMul(ctx, x, clip(ctx, emitAffine(ctx, x, 1 / 6, 0.5, `${node.name}/affine`), 0, 1))];
    case 'Clip': {
      const bound = (i: number, attr: string): number | undefined => {
        if (ctx.opset >= 11) return ins[i] ? scalarOf(ctx, constIn(node, ins[i], attr)) : undefined;
        const a = node.attributes.get(attr);
        return a?.f;
      };
      return [clip(ctx, x, bound(1, 'min'), bound(2, 'max'))];
    }
    case 'Sqrt': {
      // sqrt(v) = v · rsqrt(v); a Div by it becomes a product with rsqrt(v) (see emitDiv)
      const r = emitRsqrt(ctx, x);
      const s = emitMul(ctx, x, r);
      ctx.rsqrtOf.set(s.tensor, r);
      return [s];
    }
    case 'Reciprocal': {
      const r = ctx.rsqrtOf.get(x.tensor);
      if (!r) {
        throw new UnsupportedOpError(
          'Reciprocal',
          node.name,
          'only the reciprocal of a Sqrt (a normalisation) is supported; divide by the tensor instead',
        );
      }
      return [
        emitLinear(ctx, [r], x.shape, (i, b) => {
          b.add(0, i, 1);
          return 0;
        }),
      ];
    }
    case 'Pow': {
      const e = scalarOf(ctx, constIn(node, ins[1], 'exponent'));
      if (e === 1) return [x];
      if (e === 2) return [emitMul(ctx, x, x)];
      if (e === 3) return [emitMul(ctx, emitMul(ctx, x, x, `${node.name}/square`), x)];
      if (e === 0.5) return lowerActivation({ ...ctx, node: { ...node, opType: 'Sqrt' } }, [x]);
      throw new UnsupportedOpError('Pow', node.name, `exponent ${e} is not supported (1, 2, 3 and 0.5 are)`);
    }
    case 'Neg':
      return [emitAffine(ctx, x, -1, 0)];
    default:
      throw new Error(`lowerActivation: ${node.opType}`);
  }
}

/**
 * clip(x, lo, hi) = hi − relu(hi − lo − relu(x − lo)); a missing bound is no bound (max(x, lo) =
 * lo + relu(x − lo), min(x, hi) = hi − relu(hi − x)). Nested this way, interval arithmetic proves
 * the output within [lo, hi] exactly — the form lo + relu(x − lo) − relu(x − hi) computes the same
 * values, but its proven range grows with x's, and through a stack of ReLU6 layers the ranges (and
 * every range check after them) would widen layer by layer.
 */
export function clip(
  ctx: LowerContext,
  x: DynValue,
  lo: number | undefined,
  hi: number | undefined,
): DynValue {
  const name = ctx.node.name;
  if (lo !== undefined && hi !== undefined && !(lo <= hi)) {
    throw new ModelError(
      'ONNX_INVALID',
      `${ctx.node.opType} node "${name}" clips to an empty range [${lo}, ${hi}]`,
    );
  }
  if (lo === undefined && hi === undefined) return x;
  if (lo === undefined) {
    const over = emitRelu(ctx, emitAffine(ctx, x, -1, hi!, `${name}/hi-minus`), `${name}/below-hi`);
    return emitAffine(ctx, over, -1, hi!, `${name}/high-clipped`);
  }
  const r = emitRelu(ctx, emitAffine(ctx, x, 1, -lo, `${name}/minus-lo`), `${name}/above-lo`);
  if (hi === undefined) return emitAffine(ctx, r, 1, lo, `${name}/low-clipped`);
  const room = emitRelu(ctx, emitAffine(ctx, r, -1, hi - lo, `${name}/room`), `${name}/room-left`);
  return emitAffine(ctx, room, -1, hi, `${name}/clipped`);
}

function scalarOf(ctx: LowerContext, c: ConstValue): number {
  if (c.data.length !== 1) {
    throw new UnsupportedOpError(
      ctx.node.opType,
      ctx.node.name,
      `expected a scalar constant, got shape [${c.shape}]`,
    );
  }
  return c.data[0]!;
}
