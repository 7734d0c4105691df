import type { Command } from 'commander';
import { renderMarkdown } from '../demo/demoReport.ts';
import { runCleanup, runDemo } from '../demo/runDemo.ts';
import { type GlobalOptions, parseIntOption } from './compileCommands.ts';
import { EXIT, type Io } from './output.ts';

export function registerDemoCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description(
      'run a whole local subnet: compile, set up, chain + AVS, miners, validator rounds, Yuma, settlement, report',
    )
    .option('--dir <dir>', 'where artifacts, databases, logs and the report go', 'demo-output')
    .option('--rounds <n>', 'validator rounds', '5')
    .action(async (opts: { dir: string; rounds: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const onSignal = () => {
        io.err('zkinfer demo: interrupted, stopping every process it started');
        void runCleanup().finally(() => process.exit(130));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        // on a TTY the rounds are a table redrawn in place; elsewhere one plain line per round
        const live = io.isTTY && !g.json;
        let drawn = 0;
        const summary = await runDemo({
          dir: opts.dir,
          rounds: parseIntOption('--rounds', opts.rounds),
          log: (l) => {
            if (live && l.startsWith('round ')) return;
            if (g.json) io.err(l);
            else io.out(l);
          },
          ...(live
            ? {
                onRound: (round, rows) => {
                  const lines = [
                    `round ${round}`,
                    ...rows.map(
                      (r) =>
                        `  ${r.miner.padEnd(8)} ${r.behavior.padEnd(11)} score ${r.score.toFixed(3)}  ${r.outcome}`,
                    ),
                  ];
                  if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`);
                  for (const line of lines) process.stdout.write(`\x1b[2K${line}\n`);
                  drawn = lines.length;
                },
              }
            : {}),
        });
        if (g.json) io.out(JSON.stringify({ ok: true, ...summary }));
        else io.out(`\n${renderMarkdown(summary)}`);
        setExit(EXIT.ok);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
