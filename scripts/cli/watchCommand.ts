import type { Command } from 'commander';
import { Wallet } from 'ethers';
import { AvsClient } from '../../contracts/avsClient.ts';
import { readDeployment } from '../../contracts/coreDeployment.ts';
import { devWallet, providerFor } from '../../contracts/localAvs.ts';
import { Watcher } from '../../contracts/watcher.ts';
import { parseWatcherConfig } from '../../contracts/watcherConfig.ts';
import { readJsonConfig } from './jsonFile.ts';
import { EXIT, type Io } from './output.ts';

export function registerWatchCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('watch')
    .description(
      'challenge false AVS attestations automatically: recompute each attested result, prove and challenge within the window',
    )
    .requiredOption('--config <file>', 'watcher config (JSON)')
    .option('--once', 'check what is attested now, then exit')
    .action(async (opts: { config: string; once?: boolean }) => {
      const config = parseWatcherConfig(await readJsonConfig(opts.config));
      const provider = providerFor(config.rpc, 15_000);
      const signer =
        'privateKey' in config.key
          ? new Wallet(config.key.privateKey, provider)
          : devWallet(provider, config.key.devAccount);
      const client = await AvsClient.connect(await readDeployment(config.deployment), signer);
      const log = (line: string) => io.out(JSON.stringify({ ts: new Date().toISOString(), msg: line }));
      const watcher = await Watcher.open({
        client,
        models: config.models,
        inputs: config.inputs,
        db: config.db,
        log,
      });
      let stopped = false;
      const stop = () => {
        stopped = true;
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        log(`watching ${client.deployment.taskManager} as ${await client.address()}`);
        do {
          await watcher.tick();
          if (opts.once) break;
          await new Promise((r) => setTimeout(r, config.pollMs));
        } while (!stopped);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        watcher.close();
        provider.destroy();
      }
      setExit(EXIT.ok);
    });
}
