import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkinferError } from '../../protocol/errors.ts';
import { runCircom } from '../circom.ts';
import { writeInitialZkey } from './initialZkey.ts';
import { writePreparedPtau } from './ptauWriter.ts';

afterAll(async () => {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
  await g.curve_bn128?.terminate();
});

// Public inputs and outputs, a signal no constraint's A or B names (its A/B points are 0), a
// negative coefficient and a constant term: the cases where a scalar sum could differ from snarkjs.
const CIRCUIT = `pragma circom 2.1.0;
template T(n) {
  signal input a;
  signal input b[n];
  signal output c;
  signal m[n];
  m[0] <== a * b[0];
  for (var i = 1; i < n; i++) m[i] <== m[i - 1] * b[i] - 3 * a + 7;
  c <== m[n - 1] * a;
}
component main { public [a] } = T(9);
`;

const secrets = { tau: 0x1234567890abcdefn ** 3n, alpha: 987654321987654321n, beta: 0xdeadbeefcafen ** 2n };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkinfer-zkey-'));
  await writeFile(join(dir, 'c.circom'), CIRCUIT);
  await runCircom({ cwd: dir, file: 'c.circom', outDir: '.' });
}, 60_000);

describe('writeInitialZkey (the initial zkey computed from a dev ptau’s secrets)', () => {
  // 11 constraints + 2 public → domain 2^4; a 2^4 ptau makes H come from its truncated top level
  for (const power of [4, 6]) {
    it(`writes the very bytes snarkjs's zkey new writes (ptau 2^${power})`, async () => {
      const ptau = join(dir, `p${power}.ptau`);
      await writePreparedPtau(power, ptau, secrets);
      await snarkjs.zKey.newZKey(join(dir, 'c.r1cs'), ptau, join(dir, `snarkjs${power}.zkey`));
      await writeInitialZkey(join(dir, 'c.r1cs'), ptau, secrets, join(dir, `direct${power}.zkey`));
      const ours = await readFile(join(dir, `direct${power}.zkey`));
      const theirs = await readFile(join(dir, `snarkjs${power}.zkey`));
      expect(ours.length).toBe(theirs.length);
      expect(ours.equals(theirs)).toBe(true);
    }, 60_000);
  }

  it('refuses secrets that did not make the ptau, naming the ptau', async () => {
    const ptau = join(dir, 'p4.ptau');
    const err = await writeInitialZkey(
      join(dir, 'c.r1cs'),
      ptau,
      { ...secrets, alpha: secrets.alpha + 1n },
      join(dir, 'wrong.zkey'),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkinferError);
    expect((err as ZkinferError).code).toBe('PTAU_INVALID');
    expect((err as Error).message).toContain('p4.ptau');
  });
});
