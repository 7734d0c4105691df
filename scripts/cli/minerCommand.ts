import type { Command } from 'commander';
import { exitWhenStuck } from '../../prover/fleet/closeClients.ts';
import { startMiner } from '../../prover/miner.ts';
import { parseMinerConfig } from '../../prover/minerConfig.ts';
import { readJsonConfig } from './jsonFile.ts';
import { EXIT, type Io } from './output.ts';
import { untilSignal } from './signals.ts';

export function registerMinerCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('miner')
    .description('serve ProveInference and Capacity over the signed axon protocol until SIGINT/SIGTERM')
    .requiredOption('--config <file>', 'miner config (JSON)')
    .action(async (opts: { config: string }) => {
      const raw = await readJsonConfig(opts.config);
      const config = parseMinerConfig(raw);
      // structured logs: one JSON object per line on stdout
      const log = (e: Record<string, unknown>) =>
        io.out(JSON.stringify({ ts: new Date().toISOString(), ...e }));
      const miner = await startMiner(config, log);
      log({ msg: 'shutting down', signal: await untilSignal() });
      await miner.close();
      log({ msg: 'stopped' });
      setExit(EXIT.ok);
      // fleet mode with its Redis gone: a reconnecting client must not keep the stopped miner alive
      if (config.redis) exitWhenStuck(EXIT.ok);
    });
}
