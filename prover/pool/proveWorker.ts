import { readFile } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';
import { buildBn128 } from 'ffjavascript';
import * as snarkjs from 'snarkjs';
import { loadWitnessCalculator, type WitnessCalculator } from '../witnessCalculator.ts';
import type { ProveJob, ProveJobResult } from './messages.ts';

/** Models kept warm per worker (witness calculator + proving key in memory). */
const MAX_CACHED = Number(process.env['ZKINFER_WORKER_CACHE'] ?? 4);

interface Warm {
  readonly wc: WitnessCalculator;
  readonly zkey: Uint8Array;
}
const cache = new Map<string, Promise<Warm>>();

/** One single-threaded curve per worker, built once: snarkjs picks it up from globalThis. */
const curveReady = buildBn128(true).then((curve) => {
  (globalThis as { curve_bn128?: unknown }).curve_bn128 = curve;
});

function warm(job: ProveJob): Promise<Warm> {
  const key = `${job.wasmPath}|${job.zkeyPath}`;
  let entry = cache.get(key);
  if (entry) {
    cache.delete(key); // re-insert: Map order is the LRU order
  } else {
    entry = (async () => ({
      wc: await loadWitnessCalculator(job.wasmPath),
      zkey: new Uint8Array(await readFile(job.zkeyPath)),
    }))();
    entry.catch(() => cache.delete(key));
  }
  cache.set(key, entry);
  while (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value as string);
  return entry;
}

/** The whole worker boundary: one job in, one proof out. */
export default async function prove(job: ProveJob): Promise<ProveJobResult> {
  const queueMs = Math.max(0, performance.timeOrigin + performance.now() - job.enqueuedAt);
  if (job.testCrash && process.env['ZKINFER_TEST_HOOKS'] === '1') process.exit(70);
  await curveReady;
  const { wc, zkey } = await warm(job);
  const t0 = performance.now();
  const wtns = await wc.calculateWTNSBin(job.circuitInput as Record<string, unknown>, true);
  const t1 = performance.now();
  const { proof, publicSignals } = await snarkjs.groth16.prove(
    { type: 'mem', data: zkey },
    { type: 'mem', data: wtns },
  );
  const t2 = performance.now();
  return {
    proof,
    publicSignals,
    timings: { queueMs: Math.round(queueMs), witnessMs: Math.round(t1 - t0), proveMs: Math.round(t2 - t1) },
    threadId,
  };
}
