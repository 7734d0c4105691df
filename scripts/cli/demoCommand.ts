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
        const summary = await runDemo({
          dir: opts.dir,
          rounds: parseIntOption('--rounds', opts.rounds),
          log: (l) => (g.json ? io.err(l) : io.out(l)),
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
