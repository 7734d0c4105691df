import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Command } from 'commander';
import { ZkinferError } from '../../protocol/errors.ts';
import { replayScores } from '../../verifier/core/replayScores.ts';
import { weightsFromScores } from '../../verifier/core/scoring.ts';
import { Validator } from '../../verifier/validator.ts';
import { parseValidatorConfig } from '../../verifier/validatorConfig.ts';
import { ValidatorStore } from '../../verifier/validatorStore.ts';
import type { GlobalOptions } from './compileCommands.ts';
import { readJsonConfig } from './jsonFile.ts';
import { EXIT, type Io } from './output.ts';

function openStore(db: string): ValidatorStore {
  if (!existsSync(db)) throw new ZkinferError('IO', `no validator database at ${db}`);
  return new ValidatorStore(db);
}

export function registerValidatorCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('validator')
    .description(
      'challenge miners, verify their proofs, score them and persist everything, round after round',
    )
    .requiredOption('--config <file>', 'validator config (JSON)')
    .option('--rounds <n>', 'stop after n rounds (overrides the config)')
    .action(async (opts: { config: string; rounds?: string }) => {
      const raw = await readJsonConfig(opts.config);
      const config = parseValidatorConfig(raw);
      const rounds = opts.rounds !== undefined ? Number(opts.rounds) : config.rounds;
      const log = (e: Record<string, unknown>) =>
        io.out(JSON.stringify({ ts: new Date().toISOString(), ...e }));
      const v = await Validator.open(config);
      const metricsServer =
        config.metricsPort > 0
          ? createServer((req, res) => {
              const ok = req.url === '/metrics';
              res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' });
              res.end(ok ? v.metrics.render() : 'not found\n');
            }).listen(config.metricsPort, '127.0.0.1')
          : undefined;
      let stopping = false;
      const stop = () => {
        stopping = true;
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        log({
          msg: 'validator started',
          hotkey: v.hotkey.ss58,
          miners: config.miners.length,
          fromRound: v.store.lastRound() + 1,
        });
        for (let done = 0; !stopping && (rounds === 0 || done < rounds); done++) {
          const r = await v.runRound();
          const subtensor = v.subtensor();
          if (subtensor) {
            const client = await subtensor;
            // the subnet's own weights version key (a real chain refuses another)
            const versionKey = (await client.hyperparameters()).weightsVersionKey;
            const set = await v.setWeights(client, versionKey);
            log({
              msg: 'set_weights',
              ...(set.ok ? { uids: set.uids, values: set.values } : { refused: set.error }),
            });
          }
          log({
            msg: 'round',
            round: r.round,
            outcomes: Object.fromEntries(
              r.outcomes.map((o) => [
                o.hotkey,
                o.outcome.kind === 'verified'
                  ? `verified ${o.outcome.latencyMs}ms`
                  : `${o.outcome.kind}: ${o.outcome.reason}`,
              ]),
            ),
            weights: Object.fromEntries(r.weights),
          });
          if (config.roundIntervalMs > 0 && !stopping)
            await new Promise((res) => setTimeout(res, config.roundIntervalMs));
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        metricsServer?.close();
        v.close();
      }
      setExit(EXIT.ok);
    });

  program
    .command('scores')
    .description("each miner's score, recent outcomes and how its weight is computed")
    .requiredOption('--db <file>', 'the validator database')
    .action(async (opts: { db: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const store = openStore(opts.db);
      try {
        const scores = [...store.scores().values()];
        const weights = weightsFromScores(scores);
        const total = scores.reduce((s, m) => s + m.score, 0);
        const recent = store.requests();
        const rows = scores.map((s) => ({
          ...s,
          weight: weights.get(s.hotkey) ?? 0,
          recent: recent
            .filter((r) => r.hotkey === s.hotkey)
            .slice(-5)
            .map((r) =>
              r.outcome === 'verified'
                ? `r${r.round} verified ${Math.round(r.latencyMs)}ms`
                : `r${r.round} ${r.outcome}: ${r.reason}`,
            ),
        }));
        if (g.json)
          io.out(JSON.stringify({ ok: true, round: store.lastRound(), scoreSum: total, miners: rows }));
        else {
          io.out(`round ${store.lastRound()}; weight = score / Σ scores (Σ = ${total.toFixed(6)})`);
          for (const r of rows) {
            io.out(
              `${r.hotkey}  score ${r.score.toFixed(6)}  weight ${r.weight.toFixed(6)}  verified ${r.verified}  invalid ${r.invalid}  transport ${r.transport}${r.cooldownUntil >= store.lastRound() + 1 ? `  cooling down until round ${r.cooldownUntil}` : ''}`,
            );
            for (const line of r.recent) io.out(`    ${line}`);
          }
        }
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });

  program
    .command('replay-scores')
    .description(
      'recompute every score and weight from the request log; exit 0 when they equal the stored ones, 2 otherwise',
    )
    .argument('<db>', 'the validator database')
    .action(async (db: string, _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const store = openStore(db);
      try {
        const result = replayScores(store.requests(), (round) => store.weightsOf(round));
        if (g.json)
          io.out(JSON.stringify({ ok: result.ok, rounds: result.rounds, mismatches: result.mismatches }));
        else {
          for (const m of result.mismatches) io.out(`MISMATCH ${m}`);
          io.out(
            result.ok
              ? `reproduced ${result.rounds} rounds exactly`
              : `${result.mismatches.length} mismatches`,
          );
        }
        setExit(result.ok ? EXIT.ok : EXIT.invalid);
      } finally {
        store.close();
      }
    });
}
