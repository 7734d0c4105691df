/** Row-major tensor index helpers shared by constant folding and lowering. Pure. */

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Numpy-style broadcast of two shapes, or null when they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** For every flat index of `outShape`, the flat index of the broadcast source of shape `inShape`. */
export function broadcastIndexMap(outShape: Shape, inShape: Shape): Int32Array {
  const total = sizeOf(outShape);
  const map = new Int32Array(total);
  const outStrides = stridesOf(outShape);
  const inStrides = stridesOf(inShape);
  const offset = outShape.length - inShape.length;
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let src = 0;
    for (let d = 0; d < outShape.length; d++) {
      const coord = Math.floor(rem / outStrides[d]!);
      rem -= coord * outStrides[d]!;
      const id = d - offset;
      if (id >= 0 && inShape[id] !== 1) src += coord * inStrides[id]!;
    }
    map[flat] = src;
  }
  return map;
}

/** Coordinates of a flat index. */
export function unravel(flat: number, shape: Shape): number[] {
  const strides = stridesOf(shape);
  const coords: number[] = [];
  let rem = flat;
  for (const s of strides) {
    const c = Math.floor(rem / s);
    coords.push(c);
    rem -= c * s;
  }
  return coords;
}

/** Normalises a possibly negative axis against a rank. Returns -1 when out of range. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : -1;
}

/** Output size of one spatial dim of a pooling/conv window (ONNX formula). */
export function windowOutSize(
  inSize: number,
  kernel: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
  ceilMode: boolean,
): number {
  const span = dilation * (kernel - 1) + 1;
  const num = inSize + padBegin + padEnd - span;
  const out = (ceilMode ? Math.ceil(num / stride) : Math.floor(num / stride)) + 1;
  // ceil_mode: the last window must start inside the input or the left padding.
  if (ceilMode && (out - 1) * stride >= inSize + padBegin) return out - 1;
  return out;
}
