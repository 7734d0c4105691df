import * as snarkjs from 'snarkjs';

let building: Promise<unknown> | undefined;
let built: unknown;

/**
 * snarkjs's BN254 curve, built once per process. ffjavascript caches the curve (with its worker
 * threads) in globalThis only after building it, so two verifications starting together would
 * each build one, and the copy not cached keeps its workers, and the process, alive forever (a
 * gateway verifying an organic answer during a round could then not stop). Every verification
 * awaits this first; snarkjs's own lookups then find the cached curve. After the cached curve is
 * terminated (and removed from globalThis), the next call builds a new one, once.
 */
export function bn128(): Promise<unknown> {
  const cached = (globalThis as { curve_bn128?: unknown }).curve_bn128;
  if (built !== undefined && cached === built) return Promise.resolve(built);
  building ??= snarkjs.curves.getCurveFromName('bn128').then(
    (curve: unknown) => {
      built = curve;
      building = undefined;
      return curve;
    },
    (e: unknown) => {
      building = undefined;
      throw e;
    },
  );
  return building;
}
