import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openArtifacts } from '../circuits/artifacts.ts';
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

// The slow run: the LSTM and GRU fixtures (2^15 circuits) set up, proved through the CLI and through
// a real miner and validator. They need a prepared ptau of at least 2^15 (`zkinfer ptau dev --power
// 16 --out .zkinfer-cache/ptau/dev-pot16.ptau` makes one in ~33 s (scripts/bench/reports/ptau-dev.md), or ZKINFER_PTAU names
// one); `npm test` leaves them out because their setups and proofs take minutes the suite's budget
// does not have. Their compilation, faithfulness and witnesses run in every `npm test`
// (test/nonlinear.test.ts).

const PTAU = process.env['ZKINFER_PTAU'] ?? join(ROOT, '.zkinfer-cache', 'ptau', 'dev-pot16.ptau');
const available = existsSync(PTAU);
if (!available) {
  console.log(
    `recurrentProving: skipped, no ptau of 2^15 or more at ${PTAU} (make one with "zkinfer ptau dev --power 16 --out ${PTAU}", or set ZKINFER_PTAU, to prove the LSTM and GRU fixtures)`,
  );
}
const MODELS: readonly NonlinearModel[] = ['lstm-sunspots', 'gru-digits'];

describe.skipIf(!available).each(MODELS)('%s, proved (slow: needs a 2^15 ptau)', (m) => {
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
