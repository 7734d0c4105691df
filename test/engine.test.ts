import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { buildBn128 } from 'ffjavascript';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Artifacts, loadQuantGraph } from '../circuits/artifacts.ts';
import { toField } from '../circuits/core/field.ts';
import { infer } from '../circuits/core/inference.ts';
import { setupArtifacts } from '../circuits/setup/setup.ts';
import { ZkinferError } from '../protocol/errors.ts';
import { MSMS, POLYS, PreparedModel } from '../prover/engine/cachedProver.ts';
import {
  type CostProfile,
  type PartTask,
  planShare,
  proveCooperatively,
  runPart,
} from '../prover/engine/cooperative.ts';
import { createEngine } from '../prover/engine/engines.ts';
import { parseZkey, wtnsValues } from '../prover/engine/zkeyFile.ts';
import { loadWitnessCalculator, type WitnessCalculator } from '../prover/witnessCalculator.ts';
import { DEV_PTAU, HASHED_MLP_DIR } from './helpers/fixtures.ts';
import { setUpModel } from './helpers/provedModel.ts';

// Three circuits of different shapes: dense + ReLU, conv + batch-norm, and one that hashes its
// outputs (Poseidon: many full-size witness values). Each is proved from random witnesses.
const CIRCUITS = [
  { name: 'mlp-digits', from: undefined },
  { name: 'cnn-bn-digits', from: undefined },
  { name: 'mlp-digits-hashed', from: HASHED_MLP_DIR },
] as const;

interface Circuit {
  a: Artifacts;
  zkey: Uint8Array;
  vkey: Parameters<typeof snarkjs.groth16.verify>[0];
  wc: WitnessCalculator;
  graph: Awaited<ReturnType<typeof loadQuantGraph>>;
  size: number;
  models: PreparedModel[];
}
const circuits = new Map<string, Circuit>();
let curve: { terminate(): Promise<void> };

beforeAll(async () => {
  curve = await buildBn128(true);
  (globalThis as { curve_bn128?: unknown }).curve_bn128 = curve; // snarkjs proves single-threaded here
  for (const c of CIRCUITS) {
    const a = await setUpModel(c.name === 'mlp-digits-hashed' ? 'mlp-digits' : c.name, c.from);
    const zkey = new Uint8Array(await readFile(a.paths.zkey));
    circuits.set(c.name, {
      a,
      zkey,
      vkey: JSON.parse(await readFile(a.paths.vkey, 'utf8')),
      wc: await loadWitnessCalculator(a.paths.wasm),
      graph: await loadQuantGraph(a),
      size: a.manifest.input.size,
      // No tables, tables in several passes, every window precomputed.
      models: [
        await PreparedModel.prepare(zkey, { tableBudgetBytes: 0 }),
        await PreparedModel.prepare(zkey, { tableBudgetBytes: 4 * parseZkey(zkey).domainSize * 64 }),
        await PreparedModel.prepare(zkey),
      ],
    });
  }
}, 600_000);

afterAll(async () => {
  delete (globalThis as { curve_bn128?: unknown }).curve_bn128;
  await curve?.terminate();
});

async function witnessFor(c: Circuit, x: readonly number[], binding: bigint): Promise<Uint8Array> {
  const r = infer(c.graph, x);
  return c.wc.calculateWTNSBin(
    { in: r.quantizedInput.map((v) => toField(v).toString()), binding: binding.toString() },
    true,
  );
}

describe.each(CIRCUITS.map((c) => c.name))('native-cache engine on %s', (name) => {
  it('every proof from a random witness verifies, with the public signals snarkjs gives', async () => {
    const c = circuits.get(name)!;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: c.size, maxLength: c.size }),
        fc.bigInt({ min: 0n, max: 2n ** 250n }),
        fc.integer({ min: 0, max: 2 }),
        async (x, binding, which) => {
          const wtns = await witnessFor(c, x, binding);
          const mine = c.models[which]!.proveWtns(wtns);
          expect(await snarkjs.groth16.verify(c.vkey, mine.publicSignals, mine.proof)).toBe(true);
          const ref = await snarkjs.groth16.prove({ type: 'mem', data: c.zkey }, { type: 'mem', data: wtns });
          expect(mine.publicSignals).toEqual(ref.publicSignals);
        },
      ),
      { numRuns: 6 },
    );
  }, 300_000);

  it('a proof shared among workers verifies, whatever the plan (sums in any part, H in any ranges) and whoever runs each part', async () => {
    const c = circuits.get(name)!;
    const { domainSize: n, nVars } = c.models[0]!.key;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: n }), { maxLength: 4 }),
        // each polynomial's front (0-2) and each sum's part: 0-2 a front, 3-7 a back
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 8, maxLength: 8 }),
        fc.bigInt({ min: 0n, max: 2n ** 250n }),
        async (cuts, polyAt, msmAt, workerOf, binding) => {
          const bounds = [0, ...cuts.sort((p, q) => p - q), n];
          const fronts = [0, 1, 2].map((f) => ({
            polys: POLYS.filter((_, i) => polyAt[i] === f),
            msms: MSMS.filter((_, i) => msmAt[i] === f),
          }));
          const backs = bounds.slice(1).map((to, i) => ({
            from: bounds[i]!,
            to,
            msms: MSMS.filter((_, j) => msmAt[j]! >= 3 && (msmAt[j]! - 3) % (bounds.length - 1) === i),
          }));
          const wtns = await witnessFor(
            c,
            Array.from({ length: c.size }, (_, i) => ((i * 5) % 11) / 11),
            binding,
          );
          let k = 0;
          const run = async (t: PartTask) => runPart(c.models[workerOf[k++ % workerOf.length]!]!, t);
          const witness = wtnsValues(wtns, nVars);
          const plan = { fronts: fronts.filter((f) => f.polys.length + f.msms.length > 0), backs };
          const { proof, costs } = await proveCooperatively(run, witness, n, plan);
          const publicSignals = c.models[0]!.publicSignals(witness);
          expect(await snarkjs.groth16.verify(c.vkey, publicSignals, proof)).toBe(true);
          expect(costs.hMsPerPoint).toBeGreaterThan(0);
        },
      ),
      { numRuns: 4 },
    );
  }, 300_000);

  it("a proof planned by planShare from the last one's measured costs verifies", async () => {
    const c = circuits.get(name)!;
    const { domainSize: n, nVars } = c.models[0]!.key;
    const witness = wtnsValues(
      await witnessFor(
        c,
        Array.from({ length: c.size }, (_, i) => (i % 3) / 3),
        9n,
      ),
      nVars,
    );
    const run = async (t: PartTask) => runPart(c.models[1]!, t);
    let costs: CostProfile | undefined;
    for (const workers of [2, 3, 2]) {
      const r = await proveCooperatively(run, witness, n, planShare(n, workers, costs), costs);
      costs = r.costs;
      expect(await snarkjs.groth16.verify(c.vkey, c.models[0]!.publicSignals(witness), r.proof)).toBe(true);
    }
  }, 300_000);

  it('two proofs of one witness differ (fresh randomness) and carry the same public signals', async () => {
    const c = circuits.get(name)!;
    const wtns = await witnessFor(
      c,
      Array.from({ length: c.size }, (_, i) => (i % 7) / 7),
      5n,
    );
    const p1 = c.models[2]!.proveWtns(wtns);
    const p2 = c.models[2]!.proveWtns(wtns);
    expect(p1.proof.pi_a).not.toEqual(p2.proof.pi_a);
    expect(p1.proof.pi_c).not.toEqual(p2.proof.pi_c);
    expect(p1.publicSignals).toEqual(p2.publicSignals);
    expect(await snarkjs.groth16.verify(c.vkey, p2.publicSignals, p2.proof)).toBe(true);
  });
});

describe('native-cache engine: what it refuses and what it cannot prove', () => {
  it('a witness that breaks a constraint yields a proof that does not verify (no crash)', async () => {
    const c = circuits.get('mlp-digits')!;
    const wtns = await witnessFor(
      c,
      Array.from({ length: c.size }, () => 0.5),
      1n,
    );
    const bad = wtns.slice();
    // The witness values end the file: flip a bit of the last signal.
    bad[bad.length - 32]! ^= 1;
    const p = c.models[2]!.proveWtns(bad);
    expect(await snarkjs.groth16.verify(c.vkey, p.publicSignals, p.proof)).toBe(false);
  });

  it('a truncated or foreign proving key is a typed error naming the problem', async () => {
    const c = circuits.get('mlp-digits')!;
    await expect(PreparedModel.prepare(c.zkey.subarray(0, 1000))).rejects.toMatchObject({
      code: 'ARTIFACT_INVALID',
      shortMessage: expect.stringMatching(/^proving key: truncated/),
    });
    await expect(PreparedModel.prepare(new TextEncoder().encode('not a key at all'))).rejects.toBeInstanceOf(
      ZkinferError,
    );
  });

  it('a witness of the wrong circuit is refused with both sizes', async () => {
    const mlp = circuits.get('mlp-digits')!;
    const cnn = circuits.get('cnn-bn-digits')!;
    const wtns = await witnessFor(
      cnn,
      Array.from({ length: cnn.size }, () => 0.25),
      1n,
    );
    expect(() => mlp.models[0]!.proveWtns(wtns)).toThrow(
      /witness has \d+ signals, the proving key expects \d+/,
    );
  });

  it('the engine re-reads a proving key rewritten on disk (a new setup), never proving with stale points', async () => {
    const engine = createEngine('native-cache', { maxModels: 1 });
    const a = await setUpModel('mlp-digits'); // a directory of its own: its keys are replaced below
    const c = circuits.get('mlp-digits')!;
    const wtns = await witnessFor(
      c,
      Array.from({ length: c.size }, () => 0.1),
      2n,
    );
    const vkeyOf = async () => JSON.parse(await readFile(a.paths.vkey, 'utf8'));
    const first = await engine.prove(a.paths.zkey, wtns);
    expect(await snarkjs.groth16.verify(await vkeyOf(), first.publicSignals, first.proof)).toBe(true);
    expect(engine.memoryBytes()).toBeGreaterThan(c.zkey.byteLength);
    await setupArtifacts(a.dir, DEV_PTAU); // new contribution: new delta, new key
    const second = await engine.prove(a.paths.zkey, wtns);
    expect(await snarkjs.groth16.verify(await vkeyOf(), second.publicSignals, second.proof)).toBe(true);
  }, 120_000);
});
