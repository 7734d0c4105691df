import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { setupArtifacts } from '../circuits/setup/setup.ts';
import type { ProofBundle } from '../protocol/bundle.ts';
import { verifyProof } from '../verifier/verifyProof.ts';
import { snarkjsCli, zkinfer, zkinferInProcess } from './helpers/cli.ts';
import { DEV_PTAU, holdoutInputs, PROVABLE_MODELS } from './helpers/fixtures.ts';
import { proveHoldout, setUpModel } from './helpers/provedModel.ts';

const proved = new Map<string, { a: Artifacts; bundle: ProofBundle; vkey: unknown; files: string }>();

beforeAll(async () => {
  for (const m of PROVABLE_MODELS) {
    const a = await setUpModel(m);
    const bundle = await proveHoldout(a, m, 3, 0xb1n);
    const files = await mkdtemp(join(tmpdir(), `zkinfer-proof-${m}-`));
    await writeFile(join(files, 'proof.json'), JSON.stringify(bundle.proof));
    await writeFile(join(files, 'public.json'), JSON.stringify(bundle.publicSignals));
    await writeFile(join(files, 'bundle.json'), JSON.stringify(bundle));
    proved.set(m, { a, bundle, vkey: JSON.parse(await readFile(a.paths.vkey, 'utf8')), files });
  }
}, 600_000);

describe.each(PROVABLE_MODELS)('%s: compile → setup → prove → verify', (m) => {
  it('verifies with zkinfer verify and with the stock snarkjs CLI', async () => {
    const { a, files } = proved.get(m)!;
    const ours = await zkinfer(
      'verify',
      join(files, 'proof.json'),
      join(files, 'public.json'),
      '--vkey',
      a.paths.vkey,
    );
    expect(ours).toMatchObject({ code: 0, stdout: 'valid\n' });
    const stock = await snarkjsCli(
      'groth16',
      'verify',
      a.paths.vkey,
      join(files, 'public.json'),
      join(files, 'proof.json'),
    );
    expect(stock.code).toBe(0);
    expect(stock.stdout).toMatch(/OK!/);
    const bundle = await zkinfer('verify', join(files, 'bundle.json'), '--artifacts', a.dir, '--json');
    expect(JSON.parse(bundle.stdout)).toMatchObject({ valid: true });
  });

  it('rejects any altered proof coordinate or public signal (the stock CLI agrees)', async () => {
    const { bundle, vkey, a, files } = proved.get(m)!;
    const coords: [string, (p: ProofBundle['proof'], v: string) => void][] = [
      ['pi_a[0]', (p, v) => (p.pi_a[0] = v)],
      ['pi_a[1]', (p, v) => (p.pi_a[1] = v)],
      ['pi_b[0][0]', (p, v) => (p.pi_b[0]![0] = v)],
      ['pi_b[1][1]', (p, v) => (p.pi_b[1]![1] = v)],
      ['pi_c[0]', (p, v) => (p.pi_c[0] = v)],
      ['pi_c[1]', (p, v) => (p.pi_c[1] = v)],
    ];
    for (const [, set] of coords) {
      const p = structuredClone(bundle.proof);
      set(p, '1');
      expect((await verifyProof(vkey, bundle.publicSignals, p)).ok).toBe(false);
    }
    for (let i = 0; i < bundle.publicSignals.length; i++) {
      const pub = [...bundle.publicSignals];
      pub[i] = (BigInt(pub[i]!) + 1n).toString();
      expect(await verifyProof(vkey, pub, bundle.proof)).toMatchObject({ ok: false, reason: 'pairing' });
    }
    // one byte of one coordinate, through both CLIs
    const text = JSON.stringify(bundle.proof).replace(
      /"(\d)(\d+)"/,
      (_s, a1: string, rest: string) => `"${(Number(a1) % 9) + 1}${rest}"`,
    );
    await writeFile(join(files, 'proof-bad.json'), text);
    expect(
      (
        await zkinfer(
          'verify',
          join(files, 'proof-bad.json'),
          join(files, 'public.json'),
          '--vkey',
          a.paths.vkey,
        )
      ).code,
    ).toBe(2);
    expect(
      (
        await snarkjsCli(
          'groth16',
          'verify',
          a.paths.vkey,
          join(files, 'public.json'),
          join(files, 'proof-bad.json'),
        )
      ).stdout,
    ).not.toMatch(/OK!/);
  });

  it("fails under another model's verification key", async () => {
    const other = PROVABLE_MODELS.find((o) => o !== m)!;
    const { files } = proved.get(m)!;
    const r = await zkinferInProcess(
      'verify',
      join(files, 'proof.json'),
      join(files, 'public.json'),
      '--vkey',
      proved.get(other)!.a.paths.vkey,
    );
    expect(r.code).toBe(2);
    const asBundle = await zkinferInProcess(
      'verify',
      join(files, 'bundle.json'),
      '--artifacts',
      proved.get(other)!.a.dir,
    );
    expect(asBundle.code).toBe(2);
    expect(asBundle.stdout).toMatch(/modelMismatch/);
  });
});

// The bundle's fields are checked the same way whatever the model: one model's 11 verifications cover it.
// many verifications of one file: in process (the command itself is run as a process above)
describe('bundle fields against the proof', () => {
  it('refuses a bundle whose class, outputs or binding field were edited, with or without the input', async () => {
    const m = 'mlp-digits';
    const { a, bundle, files } = proved.get(m)!;
    const input = join(files, 'input.json');
    await writeFile(input, JSON.stringify({ input: Array.from(holdoutInputs(m)[3]!) }));
    const edits: [string, Partial<ProofBundle>, string][] = [
      ['class', { predictedClass: (bundle.predictedClass + 1) % 10 }, 'outputMismatch'],
      ['outputs', { outputs: bundle.outputs.map((v, i) => (i === 0 ? v + 1 : v)) }, 'outputMismatch'],
      ['binding', { binding: '12345' }, 'bindingMismatch'],
    ];
    for (const [what, edit, reason] of edits) {
      const path = join(files, `edited-${what}.json`);
      await writeFile(path, JSON.stringify({ ...bundle, ...edit }));
      for (const extra of [
        ['--vkey', a.paths.vkey],
        ['--artifacts', a.dir],
        ['--artifacts', a.dir, '--input', input],
      ]) {
        const r = await zkinferInProcess('verify', path, ...extra);
        expect(r.code, `${what} ${extra.join(' ')}`).toBe(2);
        expect(r.stdout, `${what} ${extra.join(' ')}`).toMatch(new RegExp(`^invalid \\(${reason}\\)`));
      }
    }
    for (const extra of [
      ['--vkey', a.paths.vkey],
      ['--artifacts', a.dir, '--input', input],
    ]) {
      expect((await zkinferInProcess('verify', join(files, 'bundle.json'), ...extra)).code).toBe(0);
    }
  });
});

describe('binding and input commitment', () => {
  it('a proof bound to b1 fails against b2 and against another input', async () => {
    const { a, bundle, vkey, files } = proved.get('mlp-digits')!;
    const n = bundle.publicSignals.length;
    const x3 = holdoutInputs('mlp-digits')[3]!;
    const x4 = holdoutInputs('mlp-digits')[4]!;
    const good = await verifyProof(vkey, bundle.publicSignals, bundle.proof, {
      binding: { index: n - 1, value: 0xb1n },
      inputHash: { index: n - 2, value: await inputHashOf(x3, a.manifest.input) },
    });
    expect(good).toEqual({ ok: true });
    expect(
      await verifyProof(vkey, bundle.publicSignals, bundle.proof, {
        binding: { index: n - 1, value: 0xb2n },
      }),
    ).toMatchObject({
      reason: 'bindingMismatch',
    });
    expect(
      await verifyProof(vkey, bundle.publicSignals, bundle.proof, {
        inputHash: { index: n - 2, value: await inputHashOf(x4, a.manifest.input) },
      }),
    ).toMatchObject({ reason: 'inputHashMismatch' });
    // claiming b2 in the public signals themselves breaks the pairing
    const swapped = [...bundle.publicSignals];
    swapped[n - 1] = String(0xb2n);
    expect(await verifyProof(vkey, swapped, bundle.proof)).toMatchObject({ reason: 'pairing' });
    // and through the CLI
    const input4 = join(files, 'x4.json');
    await writeFile(input4, JSON.stringify({ input: Array.from(x4) }));
    expect(
      (await zkinfer('verify', join(files, 'bundle.json'), '--artifacts', a.dir, '--binding', '0xb2')).code,
    ).toBe(2);
    expect(
      (await zkinfer('verify', join(files, 'bundle.json'), '--artifacts', a.dir, '--input', input4)).code,
    ).toBe(2);
    const input3 = join(files, 'x3.json');
    await writeFile(input3, JSON.stringify({ input: Array.from(x3) }));
    expect(
      (
        await zkinfer(
          'verify',
          join(files, 'bundle.json'),
          '--artifacts',
          a.dir,
          '--input',
          input3,
          '--binding',
          '177',
        )
      ).code,
    ).toBe(0);
  });
});

describe('trusted setup', () => {
  it('marks keys from the dev ptau INSECURE, and accepts any prepared ptau by path as a real one', async () => {
    const { a } = proved.get('mlp-digits')!;
    expect(a.manifest.setup).toMatchObject({ insecure: true, ptau: { dev: true, power: 13 } });
    const real = join(await mkdtemp(join(tmpdir(), 'zkinfer-ptau-')), 'ceremony.ptau');
    await copyFile(DEV_PTAU, real); // a ptau without zkinfer's dev record is treated as a ceremony's
    const { setup } = await setupArtifacts(a.dir, real);
    expect(setup).toMatchObject({ insecure: false, ptau: { dev: false, file: 'ceremony.ptau' } });
    const r = await zkinfer('audit', 'setup', a.dir, '--ptau', real);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/setup audit passed/);
    // back to the dev keys so the other tests' proofs still match
    await setupArtifacts(a.dir, DEV_PTAU);
  });

  it('refuses a ptau too small for the circuit, naming the power needed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-small-'));
    const small = join(dir, 'pot6.ptau');
    const made = await zkinfer('ptau', 'dev', '--power', '6', '--out', small);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/WARNING: INSECURE/);
    const r = await zkinfer('setup', proved.get('cnn-bn-digits')!.a.dir, '--ptau', small);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^zkinfer: error\[PTAU_TOO_SMALL\]: the circuit has 4974 constraints and needs a ptau of power 13 or more; pot6\.ptau has power 6$/,
    );
  });

  it('audit setup fails (exit 2) when the proving key was altered', async () => {
    const a = await setUpModel('mlp-digits');
    const zkey = await readFile(a.paths.zkey);
    zkey[zkey.length - 100] = zkey[zkey.length - 100]! ^ 0xff;
    await writeFile(a.paths.zkey, zkey);
    const r = await zkinfer('audit', 'setup', a.dir, '--ptau', DEV_PTAU);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/FAIL zkey matches manifest/);
  });
});
