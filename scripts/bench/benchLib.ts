import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { type Artifacts, openArtifacts } from '../../circuits/artifacts.ts';
import { compileModel } from '../../circuits/compile.ts';
import { makeDevPtau } from '../../circuits/setup/devPtau.ts';
import { setupArtifacts } from '../../circuits/setup/setup.ts';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const REPORT_DIR = join(ROOT, 'scripts', 'bench', 'reports');

export const DEV_PTAU_13 = join(ROOT, 'test', 'fixtures', 'ptau', 'dev-pot13.ptau');

/**
 * A model compiled and set up once under .zkinfer-cache/bench (reused across runs): a fixture by
 * name, or any ONNX file given as `onnx`, with a ptau large enough for it.
 */
export async function benchModel(
  name: string,
  options: { onnx?: string; ptau?: string } = {},
): Promise<Artifacts> {
  const dir = join(ROOT, '.zkinfer-cache', 'bench', name);
  await compileModel(options.onnx ?? join(ROOT, 'test', 'fixtures', 'models', `${name}.onnx`), {
    outDir: dir,
  });
  const a = await openArtifacts(dir);
  if (a.manifest.setup && existsSync(a.paths.zkey)) return a;
  await setupArtifacts(dir, options.ptau ?? DEV_PTAU_13);
  return openArtifacts(dir);
}

/** A fixture's calibration inputs (test/fixtures/models/<name>.calibration.json), when it has them. */
export function fixtureCalibration(name: string): Float64Array[] | undefined {
  const file = join(ROOT, 'test', 'fixtures', 'models', `${name}.calibration.json`);
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { inputs: number[][] }).inputs.map((x) =>
    Float64Array.from(x),
  );
}

/** An INSECURE dev ptau of 2^power under .zkinfer-cache/ptau, made once and reused by every later run. */
export async function benchPtau(power: number): Promise<string> {
  const path = join(ROOT, '.zkinfer-cache', 'ptau', `dev-pot${power}.ptau`);
  if (existsSync(path) && existsSync(`${path}.json`)) return path;
  await mkdir(join(ROOT, '.zkinfer-cache', 'ptau'), { recursive: true });
  console.error(`making a 2^${power} dev ptau once → ${path}`);
  await makeDevPtau(power, path, (m) => console.error(`  ptau: ${m}`));
  return path;
}

export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0;
}

export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Writes <name>.md and <name>.json into scripts/bench/reports. */
export async function writeReport(name: string, markdown: string, json: unknown): Promise<string> {
  await mkdir(REPORT_DIR, { recursive: true });
  await writeFile(join(REPORT_DIR, `${name}.md`), markdown);
  await writeFile(join(REPORT_DIR, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  return join(REPORT_DIR, `${name}.md`);
}

/** snarkjs keeps its curve's worker threads (and so the process) alive until it is terminated. */
export async function terminateCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
  await g.curve_bn128?.terminate();
  delete g.curve_bn128;
}
