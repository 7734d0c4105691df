import { type Artifacts, loadQuantGraph } from '../circuits/artifacts.ts';
import { toField } from '../circuits/core/field.ts';
import { infer } from '../circuits/core/inference.ts';
import type { ProveJobResult } from './pool/messages.ts';
import { ProvingPool } from './pool/provingPool.ts';

/** Proves a list of (input, binding) pairs on a temporary pool; results in input order. */
export async function proveMany(
  a: Artifacts,
  jobs: readonly { input: ArrayLike<number>; binding: bigint }[],
  workers?: number,
): Promise<ProveJobResult[]> {
  const graph = await loadQuantGraph(a);
  const pool = new ProvingPool({ ...(workers ? { workers } : {}), maxQueue: Math.max(1, jobs.length) });
  try {
    return await Promise.all(
      jobs.map((j) =>
        pool.prove(
          {
            wasmPath: a.paths.wasm,
            zkeyPath: a.paths.zkey,
            circuitInput: {
              in: infer(graph, j.input).quantizedInput.map((v) => toField(v).toString()),
              binding: j.binding.toString(),
            },
          },
          { deadlineMs: 3_600_000 },
        ),
      ),
    );
  } finally {
    await pool.close();
  }
}
