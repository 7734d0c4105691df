import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { hotkeyFromUri } from '../protocol/keys.ts';
import type { DemoBehavior } from '../prover/minerConfig.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { LocalSubtensor } from '../subnet/localSubtensor.ts';
import { Validator } from '../verifier/validator.ts';
import { parseValidatorConfig, type ValidatorConfig } from '../verifier/validatorConfig.ts';
import { ValidatorStore } from '../verifier/validatorStore.ts';
import { zkinfer } from './helpers/cli.ts';
import { holdoutInputs, ROOT } from './helpers/fixtures.ts';
import { setUpModel } from './helpers/provedModel.ts';

const CAST: [string, DemoBehavior][] = [
  ['//Fast', 'honest'],
  ['//Slow', 'slow'],
  ['//WrongInput', 'wrongInput'],
  ['//Replayer', 'replay'],
  ['//Thief', 'stealBinding'],
  ['//Garbage', 'garbage'],
];

let a: Artifacts;
let dir: string;
let miners: MinerProcess[] = [];
let config: ValidatorConfig;
const hk: Record<string, string> = {};

beforeAll(async () => {
  a = await setUpModel('mlp-digits');
  dir = await mkdtemp(join(tmpdir(), 'zkinfer-validator-'));
  const validator = await hotkeyFromUri('//Validator');
  miners = await Promise.all(
    CAST.map(([uri, demoBehavior]) =>
      startMinerProcess({
        hotkey: { uri },
        models: [a.dir],
        workers: 1,
        maxQueue: 4,
        demoBehavior,
        demoDelayMs: 1200,
        allowedHotkeys: [validator.ss58],
      }),
    ),
  );
  CAST.forEach(([uri], i) => {
    hk[uri] = miners[i]!.hotkey;
  });
  hk['//Offline'] = (await hotkeyFromUri('//Offline')).ss58;
  const dataset = join(dir, 'challenges.json');
  await writeFile(
    dataset,
    JSON.stringify({
      inputs: holdoutInputs('mlp-digits')
        .slice(0, 4)
        .map((x) => Array.from(x)),
    }),
  );
  config = parseValidatorConfig({
    challengeInputs: dataset,
    hotkey: { uri: '//Validator' },
    db: join(dir, 'validator.db'),
    models: [a.dir],
    miners: [
      ...miners.map((m) => ({ hotkey: m.hotkey, url: m.url })),
      { hotkey: hk['//Offline'], url: 'http://127.0.0.1:1' },
    ],
    timeoutMs: 15_000,
  });
}, 300_000);

afterAll(async () => {
  await Promise.all(miners.map((m) => m.stop()));
});

describe('validator against real miners on loopback', () => {
  it('after 6 rounds: fast honest first, slow honest second, every cheater zero, the offline miner decays without being called a cheater', async () => {
    const v = await Validator.open(config);
    try {
      let last: Awaited<ReturnType<Validator['runRound']>> | undefined;
      for (let r = 0; r < 6; r++) last = await v.runRound();
      const w = last!.weights;
      const s = last!.scores;
      expect(w.get(hk['//Fast']!)!).toBeGreaterThan(w.get(hk['//Slow']!)!);
      expect(w.get(hk['//Slow']!)!).toBeGreaterThan(0);
      for (const cheat of ['//WrongInput', '//Replayer', '//Thief', '//Garbage']) {
        expect(w.get(hk[cheat]!), cheat).toBe(0);
        expect(s.get(hk[cheat]!)!.invalid, cheat).toBeGreaterThan(0);
      }
      expect(w.get(hk['//Offline']!)).toBe(0);
      expect(s.get(hk['//Offline']!)).toMatchObject({ invalid: 0 });
      expect(s.get(hk['//Offline']!)!.transport).toBeGreaterThan(0);
      // the 4 dataset inputs were each sent exactly once; the rest came from the CSPRNG
      const sentHashes = v.store.requests().map((r) => r.inputHash);
      for (const x of holdoutInputs('mlp-digits').slice(0, 4)) {
        const h = (await inputHashOf(x, a.manifest.input)).toString();
        expect(sentHashes.filter((s2) => s2 === h)).toHaveLength(1);
      }
      expect(new Set(sentHashes).size).toBe(sentHashes.length);
      expect(v.metrics.render()).toMatch(/zkinfer_validator_rounds_total 6/);
      const reasons = new Set(
        v.store
          .requests()
          .filter((r) => r.outcome === 'invalid')
          .map((r) => `${r.hotkey}:${r.reason}`),
      );
      expect(reasons).toContain(`${hk['//WrongInput']}:inputHashMismatch`);
      expect(reasons).toContain(`${hk['//Thief']}:bindingMismatch`);
      expect(reasons).toContain(`${hk['//Replayer']}:inputHashMismatch`);
    } finally {
      v.close();
    }
  }, 300_000);

  it('zkinfer scores explains the weights and replay-scores reproduces them exactly', async () => {
    const scores = await zkinfer('--json', 'scores', '--db', config.db);
    expect(scores.code).toBe(0);
    const parsed = JSON.parse(scores.stdout) as {
      round: number;
      miners: { hotkey: string; weight: number; recent: string[] }[];
    };
    expect(parsed.round).toBe(6);
    expect(parsed.miners.find((m) => m.hotkey === hk['//Fast'])!.recent.at(-1)).toMatch(/verified/);
    const replay = await zkinfer('replay-scores', config.db);
    expect(replay).toMatchObject({ code: 0 });
    expect(replay.stdout).toMatch(/reproduced 6 rounds exactly/);
  });

  it('in the full local subnet the honest fast miner gets the largest incentive and cheaters none (zkinfer subnet status)', async () => {
    const state = join(dir, 'chain.json');
    const chain = LocalSubtensor.open(state, { tempo: 5 });
    const validatorKey = (await hotkeyFromUri('//Validator')).ss58;
    chain.register(validatorKey, 1000);
    for (const m of config.miners) {
      chain.register(m.hotkey);
      await chain.serveAxon(m.hotkey, m.url);
    }
    chain.advance(5); // first epoch: the validator gets its permit
    const v = await Validator.open(config);
    try {
      const set = await v.setWeights(chain);
      expect(set.ok).toBe(true);
      // a subnet with a max weight limit (0.4) refuses a vector whose largest share is above it:
      // the validator caps its weights to fit, and the chain takes them
      const capped = LocalSubtensor.open(join(dir, 'capped.json'), { tempo: 5, maxWeightLimit: 26214 });
      capped.register(validatorKey, 1000);
      for (const m of config.miners) capped.register(m.hotkey);
      capped.advance(5);
      const uncapped = set as { values: number[] };
      expect(Math.max(...uncapped.values) / uncapped.values.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.4);
      const fit = await v.setWeights(capped);
      expect(fit).toMatchObject({ ok: true });
      const values = (fit as { values: number[] }).values;
      expect(Math.max(...values) / values.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(0.4);
    } finally {
      v.close();
    }
    chain.advance(5);
    // a validator configured with the subtensor alone discovers the same miners from their axons
    const discovering = await Validator.open(
      parseValidatorConfig({
        ...config,
        db: join(dir, 'discover.db'),
        miners: undefined,
        subtensorState: state,
      }),
    );
    try {
      expect((await discovering.miners()).map((m) => m.hotkey).sort()).toEqual(
        config.miners.map((m) => m.hotkey).sort(),
      );
    } finally {
      discovering.close();
    }
    const status = await zkinfer('--json', 'subnet', 'status', '--state', state);
    expect(status.code).toBe(0);
    const neurons = (JSON.parse(status.stdout) as { neurons: { hotkey: string; incentive: number }[] })
      .neurons;
    const incentive = (uri: string) => neurons.find((n) => n.hotkey === hk[uri])!.incentive;
    const miners = Object.keys(hk);
    expect(Math.max(...miners.map(incentive))).toBe(incentive('//Fast'));
    expect(incentive('//Fast')).toBeGreaterThan(incentive('//Slow'));
    expect(incentive('//Slow')).toBeGreaterThan(0);
    for (const cheat of ['//WrongInput', '//Replayer', '//Thief', '//Garbage', '//Offline'])
      expect(incentive(cheat), cheat).toBe(0);
  });

  it('killed mid-round and restarted: scores and the replay guard survive, no nonce is reused', async () => {
    const file = join(dir, 'validator.json');
    await writeFile(file, JSON.stringify({ ...config, miners: config.miners }));
    const before = new ValidatorStore(config.db);
    const scoresBefore = before.scores();
    const noncesBefore = before.nonceCount();
    before.close();
    // start, wait for one committed round, then SIGKILL while the next round is in flight
    const child = spawn(
      process.execPath,
      [join(ROOT, 'scripts', 'zkinfer.mjs'), 'validator', '--config', file],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('"msg":"round"')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`validator exited early with ${code}`)));
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const mid = new ValidatorStore(config.db);
    const roundAfterKill = mid.lastRound();
    const noncesAfterKill = mid.allNonces();
    const scoresAfterKill = mid.scores();
    mid.close();
    expect(roundAfterKill).toBeGreaterThanOrEqual(7);
    expect(noncesAfterKill.length).toBeGreaterThan(noncesBefore);
    expect(scoresAfterKill.size).toBe(scoresBefore.size);
    // restart for two rounds: it continues from the committed round and never reuses a nonce
    const again = await zkinfer('validator', '--config', file, '--rounds', '2');
    expect(again.code).toBe(0);
    const after = new ValidatorStore(config.db);
    try {
      expect(after.lastRound()).toBe(roundAfterKill + 2);
      const all = after.allNonces();
      expect(new Set(all).size).toBe(all.length);
      for (const n of noncesAfterKill) expect(all).toContain(n);
      const sent = after.requests().map((r) => r.nonce);
      expect(new Set(sent).size).toBe(sent.length);
    } finally {
      after.close();
    }
    expect((await zkinfer('replay-scores', config.db)).code).toBe(0);
  }, 300_000);
});

describe('a validator on a real chain (recorded finney answers)', () => {
  it("discovers miners from the chain's axons; a set_weights the subnet would refuse is named, not sent", async () => {
    const { startReplayServer } = await import('./helpers/replayRpcServer.ts');
    const server = await startReplayServer();
    const v = await Validator.open(
      parseValidatorConfig({
        hotkey: { uri: '//Validator' },
        db: join(dir, 'chain-validator.db'),
        models: [a.dir],
        network: server.url,
        netuid: 23,
      }),
    );
    try {
      // netuid 23's neurons serving an axon (uids 2, 3, 6, 14 and 18 at the recorded head)
      const miners = await v.miners();
      expect(miners.map((m) => m.url)).toEqual([
        'http://67.212.41.19:2121',
        'http://213.181.111.2:44186',
        'http://162.55.57.88:20437',
        'http://148.77.2.74:22167',
        'http://148.76.188.140:19014',
      ]);
      const client = await v.subtensor()!;
      expect((await client.hyperparameters()).weightsVersionKey).toBe(0);
      const { freshScore } = await import('../verifier/core/scoring.ts');
      v.store.commitRound(
        1,
        [],
        miners.map((m) => ({ ...freshScore(m.hotkey), score: 0.5 })),
        new Map(),
      );
      const set = await v.setWeights(client);
      expect(set).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^HotKeyNotRegisteredInSubNet: /),
      });
      expect(server.requests.some((r) => r.method === 'author_submitAndWatchExtrinsic')).toBe(false);
    } finally {
      v.close();
      await server.close();
    }
  });
});
