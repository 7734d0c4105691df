/**
 * A sliced model served by a real miner process and challenged by a validator, round after round:
 * what the subnet sees of a large model (each answer carries every slice proof, verified as a
 * chain). Reports each round's outcome and the miner's answer latency.
 * Usage: node --import tsx scripts/bench/sliced-subnet.ts <sliced dir (set up)> [rounds=5] [workers=2]
 * (e.g. the directory scripts/bench/sliced.ts leaves in .zkinfer-cache/bench/).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { openSlicedSetUp } from '../../circuits/slicedModel.ts';
import { hotkeyFromUri } from '../../protocol/keys.ts';
import { startMinerProcess } from '../../prover/minerProcess.ts';
import type { Outcome } from '../../verifier/core/scoring.ts';
import { Validator } from '../../verifier/validator.ts';
import { parseValidatorConfig } from '../../verifier/validatorConfig.ts';
import { machine, terminateCurve, writeReport } from './benchLib.ts';

if (!process.argv[2]) throw new Error('usage: sliced-subnet.ts <sliced dir> [rounds] [workers]');
// absolute: the miner runs in a process of its own, from another directory
const dir = resolve(process.argv[2]);
const rounds = Number(process.argv[3] ?? 5);
const workers = Number(process.argv[4] ?? 2);
const log = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

const m = await openSlicedSetUp(dir, ['zkey', 'wasm', 'vkey']);
const validatorKey = await hotkeyFromUri('//BenchSlicedValidator');
log(`starting a miner for ${m.manifest.name} (${m.slices.length} slices, ${workers} workers)`);
const started = performance.now();
const miner = await startMinerProcess({
  hotkey: { uri: '//BenchSlicedMiner' },
  models: [dir],
  workers,
  maxQueue: 8,
  allowedHotkeys: [validatorKey.ss58],
});
const startMs = Math.round(performance.now() - started);
const work = await mkdtemp(join(tmpdir(), 'zkinfer-bench-sliced-subnet-'));
const outcomes: Outcome[] = [];
try {
  const v = await Validator.open(
    parseValidatorConfig({
      hotkey: { uri: '//BenchSlicedValidator' },
      db: join(work, 'validator.db'),
      models: [dir],
      miners: [{ hotkey: miner.hotkey, url: miner.url }],
      timeoutMs: 120_000,
      proofDir: join(work, 'proofs'),
    }),
  );
  try {
    for (let r = 0; r < rounds; r++) {
      const result = await v.runRound();
      const o = result.outcomes[0]!.outcome;
      outcomes.push(o);
      log(`round ${r + 1}: ${o.kind}${o.kind === 'verified' ? ` in ${o.latencyMs} ms` : `: ${o.reason}`}`);
    }
  } finally {
    v.close();
  }
} finally {
  miner.child.kill('SIGTERM');
  await rm(work, { recursive: true, force: true });
}

const latencies = outcomes.flatMap((o) => (o.kind === 'verified' ? [o.latencyMs] : []));
const sorted = [...latencies].sort((a, b) => a - b);
const md = [
  `# A sliced model on the subnet — ${m.manifest.name}`,
  '',
  `Measured ${new Date().toISOString()} on ${machine()}: one miner process (${workers} pool workers) serving ${m.slices.length} slices (${m.manifest.totalConstraints.toLocaleString('en-US')} constraints in all), one validator, ${rounds} rounds.`,
  '',
  `Miner ready (keys loaded, pool warmed) in ${startMs} ms. Verified answers: **${latencies.length} of ${rounds}**; answer latency median ${sorted[Math.floor(sorted.length / 2)] ?? '-'} ms (min ${sorted[0] ?? '-'}, max ${sorted.at(-1) ?? '-'}).`,
  '',
  '| round | outcome | latency (ms) |',
  '|---:|---|---:|',
  ...outcomes.map(
    (o, r) =>
      `| ${r + 1} | ${o.kind === 'verified' ? 'verified' : `${o.kind}: ${o.reason}`} | ${o.kind === 'verified' ? o.latencyMs : '-'} |`,
  ),
  '',
].join('\n');
console.log(md);
console.error(
  `report: ${await writeReport(`sliced-subnet-${basename(dir)}`, md, { machine: machine(), outcomes, startMs })}`,
);
await terminateCurve();
