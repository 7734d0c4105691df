import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openArtifacts } from '../circuits/artifacts.ts';
import { makeDevPtau } from '../circuits/setup/devPtau.ts';
import { hotkeyFromUri } from '../protocol/keys.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { Validator } from '../verifier/validator.ts';
import { parseValidatorConfig } from '../verifier/validatorConfig.ts';
import { zkinfer } from './helpers/cli.ts';
import {
  calibrationPath,
  type NonlinearModel,
  nonlinearHoldout,
  nonlinearPath,
  ROOT,
} from './helpers/fixtures.ts';

// The LSTM and GRU fixtures (2^15 circuits) set up, proved through the CLI and through a real miner
// and validator. They need a prepared ptau of at least 2^15: ZKINFER_PTAU names one, or the test
// makes a dev ptau of 2^15 once under .zkinfer-cache/ptau (~20 s), whose kept secrets make each setup
// take seconds. Their compilation, faithfulness and witnesses are also in test/nonlinear.test.ts.

const PTAU = process.env['ZKINFER_PTAU'] ?? join(ROOT, '.zkinfer-cache', 'ptau', 'dev-pot15.ptau');
if (!existsSync(PTAU) || !existsSync(`${PTAU}.json`)) {
  if (process.env['ZKINFER_PTAU']) throw new Error(`ZKINFER_PTAU names ${PTAU}, which does not exist`);
  await mkdir(dirname(PTAU), { recursive: true });
  await makeDevPtau(15, PTAU);
}
const MODELS: readonly NonlinearModel[] = ['lstm-sunspots', 'gru-digits'];

describe.each(MODELS)('%s, proved with a 2^15 ptau', (m) => {
  let miners: MinerProcess[] = [];
  afterAll(async () => {
    await Promise.all(miners.map((p) => p.stop()));
  });

  it('compiles, sets up, proves and verifies through the CLI, and through a miner and the validator', async () => {
    const root = await mkdtemp(join(tmpdir(), `zkinfer-recurrent-${m}-`));
    const dir = join(root, m);
    const c = await zkinfer('compile', nonlinearPath(m), '--out', dir, '--calibration', calibrationPath(m));
    expect(c.code, c.stderr).toBe(0);
    const s = await zkinfer('setup', dir, '--ptau', PTAU);
    expect(s.code, s.stderr).toBe(0);
    const input = join(root, 'input.json');
    await writeFile(input, JSON.stringify({ input: Array.from(nonlinearHoldout(m)[0]!) }));
    const p = await zkinfer('prove', dir, '--input', input, '--out', join(root, 'proof'));
    expect(p.code, p.stderr).toBe(0);
    const v = await zkinfer(
      'verify',
      join(root, 'proof', 'proof.json'),
      join(root, 'proof', 'public.json'),
      '--vkey',
      join(dir, 'verification_key.json'),
    );
    expect(v.code, v.stdout + v.stderr).toBe(0);

    const a = await openArtifacts(dir);
    const validator = await hotkeyFromUri('//Validator');
    miners = [
      await startMinerProcess({
        hotkey: { uri: `//Recurrent-${m}` },
        models: [a.dir],
        workers: 1,
        maxQueue: 4,
        allowedHotkeys: [validator.ss58],
      }),
    ];
    const val = await Validator.open(
      parseValidatorConfig({
        hotkey: { uri: '//Validator' },
        db: join(root, 'validator.db'),
        models: [a.dir],
        miners: miners.map((x) => ({ hotkey: x.hotkey, url: x.url })),
        timeoutMs: 60_000,
      }),
    );
    try {
      const round = await val.runRound();
      expect(round.weights.get(miners[0]!.hotkey)!).toBeGreaterThan(0);
      expect(val.store.requests().map((r) => r.outcome)).toEqual(['verified']);
    } finally {
      val.close();
    }
  }, 900_000);
});
