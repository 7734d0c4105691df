import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, describe, expect, it } from 'vitest';
import { G1, G2, type GroupLayout } from '../../prover/engine/bucketMsm.ts';
import { bytesLE, powMod } from '../../prover/engine/frMath.ts';
import { CurveHeap } from '../../prover/engine/wasmCurve.ts';
import { proveOnce } from '../../prover/proveOnce.ts';
import { compiledDir, holdoutInputs } from '../../test/helpers/fixtures.ts';
import { verifyProof } from '../../verifier/verifyProof.ts';
import { openArtifacts } from '../artifacts.ts';
import { FIELD_MODULUS as R } from '../core/field.ts';
import { auditSetup } from './auditSetup.ts';
import { generatorBytes } from './bn254.ts';
import { makeDevPtau } from './devPtau.ts';
import { writePreparedPtau } from './ptauWriter.ts';
import { setupArtifacts } from './setup.ts';

afterAll(async () => {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
  await g.curve_bn128?.terminate();
});

/** Section `id` of an iden3 binary file: [offset, length]. */
function section(file: Buffer, id: number): [number, number] {
  let pos = 12;
  for (let s = 0; s < file.readUInt32LE(8); s++) {
    const type = file.readUInt32LE(pos);
    const len = Number(file.readBigUInt64LE(pos + 4));
    if (type === id) return [pos + 12, len];
    pos += 12 + len;
  }
  throw new Error(`no section ${id}`);
}

/** k·generator, affine Montgomery LE, by wasmcurves' double-and-add. */
async function times(group: GroupLayout, k: bigint): Promise<Buffer> {
  const heap = await CurveHeap.create();
  const ex = heap.exports;
  const g = group.name;
  const p = heap.allocCopy(group === G1 ? generatorBytes().g1 : generatorBytes().g2);
  const s = heap.alloc(32);
  heap.write(s, bytesLE(k));
  const jac = heap.alloc(group.jacobian);
  const aff = heap.alloc(group.affine);
  ex[`${g}m_timesScalarAffine`]!(p, s, 32, jac);
  ex[`${g}m_toAffine`]!(jac, aff);
  return Buffer.from(heap.read(aff, group.affine));
}

describe('the prepared dev ptau, computed from its secrets', () => {
  it("is byte for byte what snarkjs's prepare phase 2 makes of its powers, and the powers are the secrets'", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-ptau-'));
    const secrets = { tau: 123456789n, alpha: 987654321n, beta: 555555555n };
    const mine = join(dir, 'p5.ptau');
    await writePreparedPtau(5, mine, secrets);
    const redone = join(dir, 'p5.snarkjs.ptau');
    await snarkjs.powersOfTau.preparePhase2(mine, redone);
    const a = await readFile(mine);
    expect(a.equals(await readFile(redone))).toBe(true);
    const at = async (id: number, group: GroupLayout, i: number) => {
      const [off] = section(a, id);
      return a.subarray(off + i * group.affine, off + (i + 1) * group.affine);
    };
    const { tau, alpha, beta } = secrets;
    expect((await at(2, G1, 7)).equals(await times(G1, powMod(tau, 7n)))).toBe(true);
    expect((await at(2, G1, 62)).equals(await times(G1, powMod(tau, 62n)))).toBe(true);
    expect((await at(3, G2, 31)).equals(await times(G2, powMod(tau, 31n)))).toBe(true);
    expect((await at(4, G1, 3)).equals(await times(G1, (alpha * powMod(tau, 3n)) % R))).toBe(true);
    expect((await at(5, G1, 0)).equals(await times(G1, beta))).toBe(true);
    expect((await at(6, G2, 0)).equals(await times(G2, beta))).toBe(true);
  });

  it('keys made from it prove and verify, and zkinfer audit setup passes them (snarkjs zkey verify)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-ptau-setup-'));
    const ptau = join(dir, 'dev11.ptau');
    const rec = await makeDevPtau(11, ptau);
    expect(rec).toMatchObject({ kind: 'zkinfer-dev-ptau', insecure: true, power: 11 });
    const model = join(dir, 'mlp-digits');
    await cp(compiledDir('mlp-digits'), model, { recursive: true });
    const { setup } = await setupArtifacts(model, ptau);
    expect(setup.insecure).toBe(true);
    const a = await openArtifacts(model);
    const bundle = await proveOnce(a, holdoutInputs('mlp-digits')[0]!, 42n);
    const vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8'));
    expect((await verifyProof(vkey, bundle.publicSignals, bundle.proof)).ok).toBe(true);
    const checks = await auditSetup(model, ptau);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  }, 120_000);
});
