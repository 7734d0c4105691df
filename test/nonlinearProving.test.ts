import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArtifacts } from '../circuits/artifacts.ts';
import { hotkeyFromUri } from '../protocol/keys.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { Validator } from '../verifier/validator.ts';
import { parseValidatorConfig } from '../verifier/validatorConfig.ts';
import { snarkjsCli, zkinfer } from './helpers/cli.ts';
import {
  calibrationPath,
  DEV_PTAU,
  type NonlinearModel,
  nonlinearHoldout,
  nonlinearPath,
} from './helpers/fixtures.ts';
import { buildOnnx } from './helpers/onnxBuilder.ts';

// Non-linear models through the user's paths: the CLI (compile → setup → prove → verify, and
// snarkjs agrees), and the subnet (a real miner process proves, the validator verifies and scores,
// a cheating miner gets nothing). The attention block covers softmax, LayerNorm, rsqrt, division
// and products; the MLPs cover the tanh, sigmoid and erf tables. All fit the committed 2^13 ptau;
// the LSTM and GRU fixtures need 2^15 (see the README) and are proven by the slow run.

const MODELS: readonly NonlinearModel[] = ['transformer-digits', 'tanh-mlp-cancer', 'gelu-mlp-digits'];
let root: string;
const dirOf = (m: NonlinearModel) => join(root, m);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'zkinfer-nonlinear-proving-'));
  for (const m of MODELS) {
    const c = await zkinfer(
      'compile',
      nonlinearPath(m),
      '--out',
      dirOf(m),
      '--calibration',
      calibrationPath(m),
    );
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/by op kind: .*fn:/);
    expect(c.stdout).toMatch(
      /approximation: (exp|tanh|erf) on \[-?\d+, -?\d+\), piecewise quadratic, max error 0\.00/,
    );
    const s = await zkinfer('setup', dirOf(m), '--ptau', DEV_PTAU);
    expect(s.code, s.stderr).toBe(0);
  }
}, 300_000);

describe('non-linear models through the CLI', () => {
  it.each(MODELS)(
    '%s: prove → verify (exit 0), snarkjs agrees, a tampered output is invalid (exit 2)',
    async (m) => {
      const input = join(root, `${m}-input.json`);
      await writeFile(input, JSON.stringify({ input: Array.from(nonlinearHoldout(m)[3]!) }));
      const out = join(root, `${m}-proof`);
      const p = await zkinfer('prove', dirOf(m), '--input', input, '--out', out);
      expect(p.code, p.stderr).toBe(0);
      const vkey = join(dirOf(m), 'verification_key.json');
      const v = await zkinfer('verify', join(out, 'proof.json'), join(out, 'public.json'), '--vkey', vkey);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      const stock = await snarkjsCli(
        'groth16',
        'verify',
        vkey,
        join(out, 'public.json'),
        join(out, 'proof.json'),
      );
      expect(stock.stdout).toMatch(/OK/);
      const pub = JSON.parse(await readFile(join(out, 'public.json'), 'utf8')) as string[];
      pub[0] = (BigInt(pub[0]!) + 1n).toString();
      const tampered = join(root, `${m}-tampered.json`);
      await writeFile(tampered, JSON.stringify(pub));
      const bad = await zkinfer('verify', join(out, 'proof.json'), tampered, '--vkey', vkey);
      expect(bad.code).toBe(2);
    },
    120_000,
  );

  it('a bidirectional LSTM is refused in one line naming the op, the node and what is missing (exit 1)', async () => {
    const H = 2;
    const bytes = buildOnnx({
      input: { name: 'x', shape: [3, 1, 2] },
      output: 'y',
      initializers: {
        W: { dims: [2, 4 * H, 2], data: new Array(16 * H).fill(0.1) },
        R: { dims: [2, 4 * H, H], data: new Array(8 * H * H).fill(0.1) },
      },
      nodes: [
        {
          op: 'LSTM',
          inputs: ['x', 'W', 'R'],
          outputs: ['y'],
          name: 'bi',
          attrs: { hidden_size: H, direction: 'bidirectional' },
        },
      ],
    });
    const path = join(root, 'bilstm.onnx');
    await writeFile(path, bytes);
    const r = await zkinfer('compile', path, '--out', join(root, 'bilstm'));
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => /error\[/.test(l));
    expect(errors).toEqual([
      'zkinfer: error[UNSUPPORTED_OP]: unsupported op LSTM at node "bi": direction "bidirectional" is not supported (only forward)',
    ]);
  });
});

describe('a non-linear model in the subnet', () => {
  let miners: MinerProcess[] = [];
  afterAll(async () => {
    await Promise.all(miners.map((m) => m.stop()));
  });

  it('an honest miner proves the attention model, the validator verifies and pays it; a cheater gets zero', async () => {
    const a = await openArtifacts(dirOf('transformer-digits'));
    const validator = await hotkeyFromUri('//Validator');
    miners = await Promise.all(
      (['honest', 'wrongInput'] as const).map((demoBehavior, i) =>
        startMinerProcess({
          hotkey: { uri: `//Nonlinear${i}` },
          models: [a.dir],
          workers: 1,
          maxQueue: 4,
          demoBehavior,
          allowedHotkeys: [validator.ss58],
        }),
      ),
    );
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-nonlinear-validator-'));
    const config = parseValidatorConfig({
      hotkey: { uri: '//Validator' },
      db: join(dir, 'validator.db'),
      models: [a.dir],
      miners: miners.map((m) => ({ hotkey: m.hotkey, url: m.url })),
      timeoutMs: 30_000,
    });
    const v = await Validator.open(config);
    try {
      let last: Awaited<ReturnType<Validator['runRound']>> | undefined;
      for (let r = 0; r < 2; r++) last = await v.runRound();
      const [honest, cheat] = miners.map((m) => m.hotkey);
      expect(last!.weights.get(honest!)!).toBeGreaterThan(0);
      expect(last!.weights.get(cheat!)).toBe(0);
      const outcomes = v.store
        .requests()
        .map((r) => `${r.hotkey === honest ? 'honest' : 'cheat'}:${r.outcome}`);
      expect(outcomes.filter((o) => o === 'honest:verified')).toHaveLength(2);
      expect(outcomes.filter((o) => o === 'cheat:invalid').length).toBeGreaterThan(0);
    } finally {
      v.close();
    }
  }, 300_000);
});
