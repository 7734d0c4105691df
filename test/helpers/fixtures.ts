import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MODELS_DIR = join(ROOT, 'test', 'fixtures', 'models');
export const DEV_PTAU = join(ROOT, 'test', 'fixtures', 'ptau', 'dev-pot13.ptau');
/** Compiled once per run by test/globalSetup.ts (and reused across runs when unchanged). */
export const COMPILED_DIR = join(ROOT, '.zkinfer-cache', 'test-fixtures');

/** The fixture models: the 784-input one only compiles (its circuit needs a 2^14 ptau). */
export const FIXTURE_MODELS = ['mlp-digits', 'cnn-view-digits', 'cnn-bn-digits', 'mlp784'] as const;
export type FixtureModel = (typeof FIXTURE_MODELS)[number];
export const PROVABLE_MODELS = ['mlp-digits', 'cnn-view-digits', 'cnn-bn-digits'] as const;

export const modelPath = (m: FixtureModel) => join(MODELS_DIR, `${m}.onnx`);
/** mlp-digits compiled with --hash-outputs (3 public signals), for on-chain settlement. */
export const HASHED_MLP_DIR = join(COMPILED_DIR, 'mlp-digits-hashed');
export const compiledDir = (m: FixtureModel) => join(COMPILED_DIR, m);

export interface Holdout {
  readonly labels: readonly number[];
  readonly inputs: readonly (readonly number[])[];
}
let holdout: Holdout | undefined;
/** scikit-learn digits hold-out split (8×8, pixels / 16), never used in training. */
export function digitsHoldout(): Holdout {
  holdout ??= JSON.parse(readFileSync(join(MODELS_DIR, 'digits-holdout.json'), 'utf8')) as Holdout;
  return holdout;
}

/** 8×8 → size×size bilinear (align_corners = false), as torch's interpolate. */
export function upscale(x: readonly number[], size: number): Float64Array {
  const out = new Float64Array(size * size);
  const scale = 8 / size;
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      const sy = Math.max(0, (oy + 0.5) * scale - 0.5);
      const sx = Math.max(0, (ox + 0.5) * scale - 0.5);
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const y1 = Math.min(y0 + 1, 7);
      const x1 = Math.min(x0 + 1, 7);
      const dy = sy - y0;
      const dx = sx - x0;
      const at = (y: number, xx: number) => x[y * 8 + xx]!;
      out[oy * size + ox] =
        at(y0, x0) * (1 - dy) * (1 - dx) +
        at(y0, x1) * (1 - dy) * dx +
        at(y1, x0) * dy * (1 - dx) +
        at(y1, x1) * dy * dx;
    }
  }
  return out;
}

/** 8×8 → 28×28 bilinear, the preprocessing mlp784 and LeNet-5 were trained with. */
export const upscale28 = (x: readonly number[]): Float64Array => upscale(x, 28);

/** The tints cnn64-digits colours digits with (make_cnn64_fixture.py): image i gets TINTS[i % 3]. */
const TINTS = [
  [1, 0.5, 0.25],
  [0.25, 1, 0.5],
  [0.5, 0.25, 1],
] as const;

/** The i-th hold-out digit as cnn64-digits reads it: upscaled to 64×64 and coloured, CHW. */
export function cnn64Input(x: readonly number[], i: number): Float64Array {
  const plane = upscale(x, 64);
  const out = new Float64Array(3 * 64 * 64);
  TINTS[i % 3]!.forEach((t, c) => {
    for (let k = 0; k < plane.length; k++) out[c * plane.length + k] = plane[k]! * t;
  });
  return out;
}

/** Hold-out inputs shaped for a fixture model. */
export function holdoutInputs(m: FixtureModel): Float64Array[] {
  return digitsHoldout().inputs.map((x) => (m === 'mlp784' ? upscale28(x) : Float64Array.from(x)));
}

/** Non-linear fixture models (make_nonlinear_fixtures.py): each with a hold-out and a calibration file. */
export const NONLINEAR_MODELS = [
  'tanh-mlp-cancer',
  'gelu-mlp-digits',
  'transformer-digits',
  'transformer-digits-op14',
  'gru-digits',
  'lstm-sunspots',
] as const;
export type NonlinearModel = (typeof NONLINEAR_MODELS)[number];
/** Regression models are judged by their error against the output range, the rest by their class. */
export const REGRESSION_MODELS: ReadonlySet<NonlinearModel> = new Set(['lstm-sunspots']);
export const nonlinearPath = (m: NonlinearModel) => join(MODELS_DIR, `${m}.onnx`);
export const calibrationPath = (m: NonlinearModel) => join(MODELS_DIR, `${m}.calibration.json`);

/** Hold-out inputs (flat) of a non-linear fixture, never used in training. */
export function nonlinearHoldout(m: NonlinearModel): Float64Array[] {
  const doc = JSON.parse(readFileSync(join(MODELS_DIR, `${m}.holdout.json`), 'utf8')) as {
    inputs: number[][];
  };
  return doc.inputs.map((x) => Float64Array.from(x));
}

/** The calibration inputs of a non-linear fixture (from its training split). */
export function nonlinearCalibration(m: NonlinearModel): Float64Array[] {
  const doc = JSON.parse(readFileSync(calibrationPath(m), 'utf8')) as { inputs: number[][] };
  return doc.inputs.map((x) => Float64Array.from(x));
}
