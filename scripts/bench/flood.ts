/**
 * A miner under a bounded flood: `requests` clients sending signed requests from unknown keys on
 * new connections plus `slowSockets` slow-loris connections (in a separate process), for
 * `seconds`. A permitted validator (this process) proves challenges one after another before the
 * flood (the baseline) and during it. Reports the validator's latency during the flood as a ratio
 * of the baseline, every answer's outcome, and the resident memory of the miner and the validator.
 * Usage: node --import tsx scripts/bench/flood.ts [requests=200] [slowSockets=150] [seconds=30]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { callAxon } from '../../protocol/dendrite.ts';
import { hotkeyFromUri } from '../../protocol/keys.ts';
import type { ProveInferenceResponse } from '../../protocol/synapses.ts';
import { startMinerProcess } from '../../prover/minerProcess.ts';
import { benchModel, machine, percentile, ROOT, writeReport } from './benchLib.ts';

const requests = Number(process.argv[2] ?? 200);
const slowSockets = Number(process.argv[3] ?? 150);
const seconds = Number(process.argv[4] ?? 30);

const rssMiB = (pid: number | 'self') => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
};

const a = await benchModel('mlp-digits');
const validator = await hotkeyFromUri('//Alice');
const miner = await startMinerProcess({
  hotkey: { uri: '//FloodBenchMiner' },
  models: [a.dir],
  workers: 2,
  allowedHotkeys: [validator.ss58],
});
const minerPid = miner.child.pid!;
console.error(`miner ${miner.url} (pid ${minerPid})`);
miner.logs.length = 0;
const size = a.manifest.input.size;
let n = 0;
const challenge = async () => {
  const i = n++;
  const started = performance.now();
  const r = await callAxon<ProveInferenceResponse>(
    miner.url,
    'ProveInference',
    {
      modelId: a.manifest.setup!.modelId,
      input: Array.from({ length: size }, (_, j) => ((i + j) % 7) / 7),
      binding: { nonce: String(i + 1), validatorHotkey: validator.ss58, minerHotkey: miner.hotkey },
      deadlineMs: 12_000,
    },
    { hotkey: validator, axonHotkey: miner.hotkey, timeoutMs: 12_000 },
  );
  return {
    ok: r.ok,
    detail: r.ok ? '' : `${r.failure} ${r.status ?? ''} ${r.detail}`,
    ms: performance.now() - started,
  };
};

try {
  for (let i = 0; i < 3; i++) await challenge(); // warm-up
  const baseline = [];
  for (let i = 0; i < 10; i++) baseline.push(await challenge());
  const idle = { miner: rssMiB(minerPid), validator: rssMiB('self') };

  const flooder = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'scripts', 'bench', 'floodClient.ts'),
      miner.url,
      miner.hotkey,
      String(requests),
      String(slowSockets),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  flooder.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await new Promise((r) => setTimeout(r, 2000)); // let the flood build up
  console.error(
    `baseline p50 ${percentile(
      baseline.map((b) => b.ms),
      0.5,
    ).toFixed(0)} ms; flooding for ${seconds} s`,
  );
  const peak = { ...idle };
  const sampler = setInterval(() => {
    peak.miner = Math.max(peak.miner, rssMiB(minerPid));
    peak.validator = Math.max(peak.validator, rssMiB('self'));
    miner.logs.length = 0; // the test harness's copy of the miner's log lines, not the miner's memory
  }, 500);
  const during = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) during.push(await challenge());
  clearInterval(sampler);
  const exited = new Promise((r) => flooder.once('exit', r));
  flooder.kill('SIGTERM');
  await exited;
  const flood = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
    statuses: Record<string, number>;
    slowClosed: number;
  };
  const after = { miner: rssMiB(minerPid), validator: rssMiB('self') };

  const p = (xs: { ms: number }[], q: number) =>
    percentile(
      xs.map((x) => x.ms),
      q,
    );
  const served = during.filter((d) => d.ok).length;
  const failures = during.filter((d) => !d.ok).map((d) => d.detail);
  const mb = (x: number) => `${x.toFixed(0)} MiB`;
  const md = [
    '# Miner under a flood',
    '',
    `${machine()}. mlp-digits, miner with 2 workers; flood: ${requests} clients sending signed requests from unknown keys (30 kB bodies, a new connection each) and ${slowSockets} slow-loris sockets over 8 loopback addresses, for ${seconds} s, in a separate process.`,
    '',
    '| | baseline (no flood) | during the flood | ratio |',
    '|---|---|---|---|',
    `| validator challenges served | ${baseline.filter((b) => b.ok).length}/${baseline.length} | ${served}/${during.length} | |`,
    `| latency p50 | ${p(baseline, 0.5).toFixed(0)} ms | ${p(during, 0.5).toFixed(0)} ms | ${(p(during, 0.5) / p(baseline, 0.5)).toFixed(2)}x |`,
    `| latency max | ${p(baseline, 1).toFixed(0)} ms | ${p(during, 1).toFixed(0)} ms | ${(p(during, 1) / p(baseline, 1)).toFixed(2)}x |`,
    `| miner RSS (idle → peak → after) | ${mb(idle.miner)} | ${mb(peak.miner)} → ${mb(after.miner)} | ${(peak.miner / idle.miner).toFixed(2)}x |`,
    `| validator RSS (idle → peak → after) | ${mb(idle.validator)} | ${mb(peak.validator)} → ${mb(after.validator)} | ${(peak.validator / idle.validator).toFixed(2)}x |`,
    '',
    `Flood answers: ${JSON.stringify(flood.statuses)}; slow sockets closed by the miner: ${flood.slowClosed}.`,
    failures.length
      ? `Validator failures: ${failures.slice(0, 5).join('; ')}`
      : 'Every validator challenge was served within its deadline.',
    '',
  ].join('\n');
  console.log(md);
  await writeReport('flood', md, {
    requests,
    slowSockets,
    seconds,
    baseline,
    during,
    idle,
    peak,
    after,
    flood,
  });
} finally {
  await miner.stop();
}
