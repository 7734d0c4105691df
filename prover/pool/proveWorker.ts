import { threadId, workerData } from 'node:worker_threads';
import { buildBn128 } from 'ffjavascript';
import { type PartResult, runPart } from '../engine/cooperative.ts';
import { createEngine, DEFAULT_ENGINE, type EngineName } from '../engine/engines.ts';
import { wtnsValues } from '../engine/zkeyFile.ts';
import { loadWitnessCalculator, type WitnessCalculator } from '../witnessCalculator.ts';
import type {
  ProveJob,
  ProveJobResult,
  WarmJobResult,
  WitnessPartResult,
  WorkerSettings,
} from './messages.ts';

const settings = (workerData ?? {}) as Partial<WorkerSettings>;

/** Models kept warm per worker (witness calculator + prepared proving key). */
const MAX_CACHED = settings.maxModels ?? 4;
const engineName: EngineName = settings.engine ?? DEFAULT_ENGINE;
const engine = createEngine(engineName, {
  maxModels: MAX_CACHED,
  ...(settings.tableBudgetBytes === undefined ? {} : { tableBudgetBytes: settings.tableBudgetBytes }),
});

const calculators = new Map<string, Promise<WitnessCalculator>>();

/** One single-threaded curve per worker, built once: snarkjs (engine "snarkjs") picks it up from globalThis. */
const curveReady =
  engineName === 'snarkjs'
    ? buildBn128(true).then((curve) => {
        (globalThis as { curve_bn128?: unknown }).curve_bn128 = curve;
      })
    : Promise.resolve();

function calculator(wasmPath: string): Promise<WitnessCalculator> {
  let entry = calculators.get(wasmPath);
  if (entry) {
    calculators.delete(wasmPath); // re-insert: Map order is the LRU order
  } else {
    entry = loadWitnessCalculator(wasmPath);
    entry.catch(() => calculators.delete(wasmPath));
  }
  calculators.set(wasmPath, entry);
  while (calculators.size > MAX_CACHED) calculators.delete(calculators.keys().next().value as string);
  return entry;
}

/** A part of a proof shared among workers: every worker holds the same prepared model. */
async function provePart(
  job: ProveJob,
  part: NonNullable<ProveJob['part']>,
): Promise<WitnessPartResult | PartResult> {
  if (!engine.prepared) throw new Error(`the ${engine.name} engine cannot share a proof among workers`);
  if (part.kind !== 'witness') return runPart(await engine.prepared(job.zkeyPath), part);
  const t0 = performance.now();
  const wtns = await (await calculator(job.wasmPath)).calculateWTNSBin(
    job.circuitInput as Record<string, unknown>,
    true,
  );
  const witnessMs = Math.round(performance.now() - t0);
  const model = await engine.prepared(job.zkeyPath);
  const witness = wtnsValues(wtns, model.key.nVars);
  return {
    witness,
    publicSignals: model.publicSignals(witness),
    domainSize: model.key.domainSize,
    witnessMs,
    threadId,
  };
}

/** The whole worker boundary: one job (or one part of a shared proof) in, one answer out. */
export default async function prove(
  job: ProveJob,
): Promise<ProveJobResult | WarmJobResult | WitnessPartResult | PartResult> {
  const queueMs = Math.max(0, performance.timeOrigin + performance.now() - job.enqueuedAt);
  const crash = job.testCrash === true || (job.testCrash !== undefined && job.testCrash === job.part?.kind);
  if (crash && process.env['ZKINFER_TEST_HOOKS'] === '1') process.exit(70);
  await curveReady;
  if (job.part) return provePart(job, job.part);
  const wc = await calculator(job.wasmPath);
  if (job.warmOnly) {
    const w0 = performance.now();
    const sample =
      Object.keys(job.circuitInput).length > 0
        ? await wc.calculateWTNSBin(job.circuitInput as Record<string, unknown>, true)
        : undefined;
    await engine.warm(job.zkeyPath, sample);
    return { warmMs: Math.round(performance.now() - w0), threadId };
  }
  const t0 = performance.now();
  const wtns = await wc.calculateWTNSBin(job.circuitInput as Record<string, unknown>, true);
  const t1 = performance.now();
  const { proof, publicSignals } = await engine.prove(job.zkeyPath, wtns);
  const t2 = performance.now();
  return {
    proof,
    publicSignals,
    engine: engine.name,
    timings: { queueMs: Math.round(queueMs), witnessMs: Math.round(t1 - t0), proveMs: Math.round(t2 - t1) },
    threadId,
  };
}
