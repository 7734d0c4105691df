import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZkinferError } from '../protocol/errors.ts';
import { runCircom } from './circom.ts';

describe('runCircom', () => {
  it("reports circom's under-constraint inspection warnings (compile refuses such circuits)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-circom-'));
    await writeFile(
      join(dir, 'bad.circom'),
      'pragma circom 2.1.0;\ntemplate Bad() { signal input x; signal output y; signal q; q <-- x \\ 4; y <== q * 2; }\ncomponent main = Bad();\n',
    );
    const r = await runCircom({ cwd: dir, file: 'bad.circom', outDir: '.', inspect: true });
    expect(r.warnings.length).toBeGreaterThan(0);
    expect(r.warnings[0]).toMatch(/^warning\[CA\d+\]/);
  });

  it('turns a circom error into CIRCOM_FAILED with its first error line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-circom-'));
    await writeFile(
      join(dir, 'broken.circom'),
      'pragma circom 2.1.0;\ntemplate T() { signal input x; y <== x; }\ncomponent main = T();\n',
    );
    const err = await runCircom({ cwd: dir, file: 'broken.circom', outDir: '.' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkinferError);
    expect((err as ZkinferError).code).toBe('CIRCOM_FAILED');
    expect((err as ZkinferError).shortMessage).toMatch(/error/i);
  });
});
