import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../../circuits/artifacts.ts';
import { loadQuantGraph } from '../../circuits/artifacts.ts';
import { toField } from '../../circuits/core/field.ts';
import { infer } from '../../circuits/core/inference.ts';
import { holdoutInputs } from '../../test/helpers/fixtures.ts';
import { setUpModel } from '../../test/helpers/provedModel.ts';
import { verifyProof } from '../../verifier/verifyProof.ts';
import { PoolError, ProvingPool } from './provingPool.ts';

let a: Artifacts;
let pool: ProvingPool;
let vkey: unknown;
type Job = { wasmPath: string; zkeyPath: string; circuitInput: Record<string, string | string[]> };
let job: (i: number) => Job;
/** A 2^13-domain circuit: large enough to be shared among idle workers. */
let cnnJob: (i: number) => Job;
let cnnVkey: unknown;

beforeAll(async () => {
  process.env['ZKINFER_TEST_HOOKS'] = '1'; // workers inherit it: lets a job crash its worker on purpose
  a = await setUpModel('mlp-digits');
  vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8'));
  const graph = await loadQuantGraph(a);
  const inputs = holdoutInputs('mlp-digits');
  job = (i) => ({
    wasmPath: a.paths.wasm,
    zkeyPath: a.paths.zkey,
    circuitInput: {
      in: infer(graph, inputs[i]!).quantizedInput.map((v) => toField(v).toString()),
      binding: String(1000 + i),
    },
  });
  const cnn = await setUpModel('cnn-bn-digits');
  cnnVkey = JSON.parse(await readFile(cnn.paths.vkey, 'utf8'));
  const cnnGraph = await loadQuantGraph(cnn);
  const cnnInputs = holdoutInputs('cnn-bn-digits');
  cnnJob = (i) => ({
    wasmPath: cnn.paths.wasm,
    zkeyPath: cnn.paths.zkey,
    circuitInput: {
      in: infer(cnnGraph, cnnInputs[i]!).quantizedInput.map((v) => toField(v).toString()),
      binding: String(2000 + i),
    },
  });
  pool = new ProvingPool({ workers: 2, maxQueue: 4 });
}, 300_000);

afterAll(async () => {
  await pool?.close();
});

describe('ProvingPool', () => {
  it('proves on worker threads; every proof verifies and carries its own binding', async () => {
    const results = await Promise.all([0, 1, 2, 3].map((i) => pool.prove(job(i), { deadlineMs: 60_000 })));
    for (const [i, r] of results.entries()) {
      expect(await verifyProof(vkey, r.publicSignals, r.proof)).toEqual({ ok: true });
      expect(r.publicSignals.at(-1)).toBe(String(1000 + i));
    }
    expect(new Set(results.map((r) => r.threadId)).size).toBe(2);
    // jobs submitted together each take a worker: none is shared
    expect(results.map((r) => r.cooperative)).toEqual([undefined, undefined, undefined, undefined]);
  }, 120_000);

  it('a job alone on an idle pool is shared by every idle worker, and its proof verifies', async () => {
    for (const i of [6, 7]) {
      const r = await pool.prove(cnnJob(i), { deadlineMs: 60_000 });
      expect(r.cooperative).toBe(2);
      expect(await verifyProof(cnnVkey, r.publicSignals, r.proof)).toEqual({ ok: true });
      expect(r.publicSignals.at(-1)).toBe(String(2000 + i));
    }
    // a circuit below 2^13 is proved whole by one worker (sharing would cost more than it saves)
    for (const i of [6, 7]) {
      const r = await pool.prove(job(i), { deadlineMs: 60_000 });
      expect(r.cooperative).toBeUndefined();
      expect(await verifyProof(vkey, r.publicSignals, r.proof)).toEqual({ ok: true });
    }
    const single = new ProvingPool({ workers: 2, maxQueue: 2, cooperative: false });
    try {
      const r = await single.prove(cnnJob(8), { deadlineMs: 60_000 });
      expect(r.cooperative).toBeUndefined();
      expect(await verifyProof(cnnVkey, r.publicSignals, r.proof)).toEqual({ ok: true });
    } finally {
      await single.close();
    }
  }, 120_000);

  it('a worker that dies in a part of a shared proof fails only that proof; shared proofs go on', async () => {
    for (const part of ['front', 'h', 'finish'] as const) {
      const crash = pool.prove({ ...cnnJob(0), testCrash: part }, { deadlineMs: 60_000 });
      await expect(crash).rejects.toMatchObject({ poolCode: 'WORKER_FAILED' });
      const r = await pool.prove(cnnJob(1), { deadlineMs: 60_000 });
      expect(r.cooperative).toBe(2);
      expect(await verifyProof(cnnVkey, r.publicSignals, r.proof)).toEqual({ ok: true });
    }
  }, 180_000);

  it('a worker that dies mid-proof fails only its job; the next 10 jobs succeed', async () => {
    const crash = pool.prove({ ...job(0), testCrash: true }, { deadlineMs: 60_000 });
    await expect(crash).rejects.toMatchObject({ poolCode: 'WORKER_FAILED' });
    // within capacity (2 running + 4 waiting): two waves of five
    const after: unknown[] = [];
    for (const wave of [0, 5]) {
      after.push(
        ...(await Promise.all(
          [0, 1, 2, 3, 4].map((i) =>
            pool.prove(job(wave + i), { deadlineMs: 120_000 }).catch((e: PoolError) => e.poolCode),
          ),
        )),
      );
    }
    expect(after.filter((r) => typeof r === 'string')).toEqual([]);
    expect(after).toHaveLength(10);
  }, 180_000);

  it('refuses at once when the queue is full or the deadline cannot be met', async () => {
    const small = new ProvingPool({ workers: 1, maxQueue: 1, initialProveMs: 500 });
    try {
      const first = small.prove(job(0), { deadlineMs: 60_000 });
      const second = small.prove(job(1), { deadlineMs: 60_000 });
      // refused, not queued: each refusal settles before the jobs ahead of it have finished
      let aheadDone = false;
      void Promise.all([first, second]).then(() => {
        aheadDone = true;
      });
      await expect(small.prove(job(2), { deadlineMs: 60_000 })).rejects.toMatchObject({
        poolCode: 'QUEUE_FULL',
      });
      await expect(small.prove(job(3), { deadlineMs: 100 })).rejects.toBeInstanceOf(PoolError);
      expect(aheadDone).toBe(false);
      await Promise.all([first, second]);
      await expect(small.prove(job(4), { deadlineMs: 1 })).rejects.toMatchObject({
        poolCode: 'DEADLINE_UNMEETABLE',
      });
    } finally {
      await small.close();
    }
  }, 120_000);

  it('warms every worker (snarkjs engine too); a corrupt proving key fails the warm-up naming the file', async () => {
    for (const engine of ['native-cache', 'snarkjs'] as const) {
      const p = new ProvingPool({ workers: 2, maxQueue: 2, engine });
      try {
        const warmMs = await p.warm([
          { wasmPath: a.paths.wasm, zkeyPath: a.paths.zkey, sampleInput: job(0).circuitInput },
        ]);
        // one figure per model: the slowest worker's preparation, which really happened
        expect(warmMs).toHaveLength(1);
        expect(warmMs[0]).toBeGreaterThan(0);
        const r = await p.prove(job(5), { deadlineMs: 60_000 });
        expect(r.engine).toBe(engine);
        expect(await verifyProof(vkey, r.publicSignals, r.proof)).toEqual({ ok: true });
      } finally {
        await p.close();
      }
    }
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-badkey-'));
    const bad = join(dir, 'circuit.zkey');
    await writeFile(bad, (await readFile(a.paths.zkey)).subarray(0, 5000));
    const p = new ProvingPool({ workers: 1, maxQueue: 1 });
    try {
      const err = await p.warm([{ wasmPath: a.paths.wasm, zkeyPath: bad }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PoolError);
      expect(err).toMatchObject({ poolCode: 'WORKER_FAILED' });
      expect((err as PoolError).message).toMatch(/circuit\.zkey failed: proving key: truncated/);
    } finally {
      await p.close();
    }
  }, 180_000);
});
