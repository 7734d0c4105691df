import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZkinferError } from '../protocol/errors.ts';
import { onlyWatCleanupFailed, runCircom } from './circom.ts';

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

describe('onlyWatCleanupFailed (circom2 panics deleting its .wat after a complete compile)', () => {
  const panic = [
    "thread 'main' panicked at circom/src/compilation_user.rs:150:49:",
    'called `Result::unwrap()` on an `Err` value: Os { code: 44, kind: NotFound, message: "No such file or directory" }',
  ].join('\n');
  const written =
    'non-linear constraints: 40161\nWritten successfully: circuit.r1cs\nWritten successfully: circuit.sym\n';
  // The smallest valid WebAssembly module: magic and version.
  const emptyWasm = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

  async function dirWith(wasm: Uint8Array | undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-wat-'));
    if (wasm) {
      await mkdir(join(dir, 'circuit_js'));
      await writeFile(join(dir, 'circuit_js', 'circuit.wasm'), wasm);
    }
    return { cwd: dir, file: 'circuit.circom', outDir: '.' };
  }

  it('accepts that one panic when the r1cs was written and the wasm validates', async () => {
    expect(onlyWatCleanupFailed(await dirWith(emptyWasm), written, panic)).toBe(true);
  });

  it('refuses it when the wasm is missing or truncated, the r1cs was not written, or circom reported an error', async () => {
    expect(onlyWatCleanupFailed(await dirWith(undefined), written, panic)).toBe(false);
    expect(onlyWatCleanupFailed(await dirWith(emptyWasm.subarray(0, 6)), written, panic)).toBe(false);
    expect(onlyWatCleanupFailed(await dirWith(emptyWasm), 'non-linear constraints: 3\n', panic)).toBe(false);
    expect(onlyWatCleanupFailed(await dirWith(emptyWasm), `${written}error[T3001]: x`, panic)).toBe(false);
    expect(onlyWatCleanupFailed(await dirWith(emptyWasm), written, 'RuntimeError: unreachable')).toBe(false);
  });
});
