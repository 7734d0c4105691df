import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { callAxon } from '../protocol/dendrite.ts';
import { type Hotkey, hotkeyFromUri } from '../protocol/keys.ts';
import type { ProveInferenceResponse } from '../protocol/synapses.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { verifyProof } from '../verifier/verifyProof.ts';
import { holdoutInputs } from './helpers/fixtures.ts';
import { startFlood } from './helpers/flood.ts';
import { setUpModel } from './helpers/provedModel.ts';

// A real miner process under a bounded flood (signed requests from unknown keys on new
// connections, and slow-loris sockets, from several loopback addresses) keeps serving its
// permitted validator. The full-size flood (200 + 150 for 30 s, with memory figures) is the
// benchmark scripts/bench/flood.ts.

let a: Artifacts;
let miner: MinerProcess;
let validator: Hotkey;

beforeAll(async () => {
  a = await setUpModel('mlp-digits');
  validator = await hotkeyFromUri('//Alice');
  miner = await startMinerProcess({
    hotkey: { uri: '//FloodedMiner' },
    models: [a.dir],
    workers: 1,
    allowedHotkeys: [validator.ss58],
    headersTimeoutMs: 1500,
    requestTimeoutMs: 3000,
  });
}, 300_000);

afterAll(async () => {
  await miner?.stop();
});

describe('miner under a flood', () => {
  it('serves a permitted validator while strangers flood it and slow sockets are cut off', async () => {
    const vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8')) as unknown;
    const flood = await startFlood({
      url: miner.url,
      axonHotkey: miner.hotkey,
      requests: 60,
      slowSockets: 40,
    });
    let report: Awaited<ReturnType<typeof flood.stop>>;
    const answers: Awaited<ReturnType<typeof callAxon<ProveInferenceResponse>>>[] = [];
    try {
      await new Promise((r) => setTimeout(r, 500));
      for (const i of [0, 1, 2]) {
        answers.push(
          await callAxon<ProveInferenceResponse>(
            miner.url,
            'ProveInference',
            {
              modelId: a.manifest.setup!.modelId,
              input: Array.from(holdoutInputs('mlp-digits')[i]!),
              binding: { nonce: String(i + 1), validatorHotkey: validator.ss58, minerHotkey: miner.hotkey },
              deadlineMs: 60_000,
            },
            { hotkey: validator, axonHotkey: miner.hotkey, timeoutMs: 60_000 },
          ),
        );
      }
      // long enough for the header timeout (1.5 s, checked every second) to cut slow sockets
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      report = await flood.stop();
    }
    for (const r of answers) {
      if (!r.ok) throw new Error(`the validator was not served: ${JSON.stringify(r)}`);
      expect(await verifyProof(vkey, r.body.publicSignals, r.body.proof)).toEqual({ ok: true });
    }
    console.log(`flood: ${JSON.stringify(report)}`);
    expect(report.statuses['403']).toBeGreaterThan(0); // strangers refused on their headers
    expect(report.statuses['500'] ?? 0).toBe(0);
    expect(report.statuses['200'] ?? 0).toBe(0);
    expect(report.slowClosed).toBeGreaterThan(0);
    // and afterwards the miner is itself
    const health = await fetch(`${miner.url}/health`);
    expect(health.status).toBe(200);
  }, 120_000);
});
