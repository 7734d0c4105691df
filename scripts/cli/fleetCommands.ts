import type { Command } from 'commander';
import { exitWhenStuck } from '../../prover/fleet/closeClients.ts';
import { type FleetStatus, readFleetStatus } from '../../prover/fleet/fleetStatus.ts';
import { parseNodeConfig } from '../../prover/fleet/nodeConfig.ts';
import { startProverNode } from '../../prover/fleet/proverNode.ts';
import type { GlobalOptions } from './compileCommands.ts';
import { readJsonConfig } from './jsonFile.ts';
import { EXIT, type Io } from './output.ts';
import { untilSignal } from './signals.ts';

function printStatus(io: Io, s: FleetStatus): void {
  io.out(`fleet ${s.fleet} on ${s.redis}: ${s.nodes.length} node(s), ${s.workers} worker(s)`);
  io.out(
    `jobs: ${s.jobs.waiting} waiting, ${s.jobs.active} in flight, ${s.jobs.delayed} delayed, ${s.jobs.failed} failed, ${s.jobs.completed} completed (kept)`,
  );
  const tableModels = Object.keys(s.models);
  io.out(
    `models served by the axon: ${tableModels.length ? tableModels.join(', ') : '(none published yet)'}`,
  );
  for (const n of s.nodes) {
    const up = Math.round((Date.now() - n.startedAt) / 1000);
    io.out(
      `  ${n.id}  ${n.host}  ${n.workers} worker(s), ${n.inFlight} proving, ${n.proofs} proofs, ${n.failures} failures, ~${n.avgProveMs} ms/proof, up ${up}s, ${n.engine}`,
    );
    io.out(`    models: ${n.models.map((m) => m.name).join(', ')}`);
    for (const c of n.conflicts)
      io.out(`    MISMATCH: ${c.name} is ${c.nodeModelId} on this node, ${c.fleetModelId} in the fleet`);
    if (n.metricsUrl) io.out(`    metrics: ${n.metricsUrl}`);
  }
}

export function registerFleetCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('prover-node')
    .description(
      "take proving jobs from a miner's fleet queue (Redis) with a warm pool, until SIGINT/SIGTERM",
    )
    .requiredOption('--config <file>', 'prover node config (JSON)')
    .action(async (opts: { config: string }) => {
      const config = parseNodeConfig(await readJsonConfig(opts.config));
      const log = (e: Record<string, unknown>) =>
        io.out(JSON.stringify({ ts: new Date().toISOString(), ...e }));
      const node = await startProverNode(config, log);
      log({ msg: 'shutting down', signal: await untilSignal() });
      await node.close();
      log({ msg: 'stopped' });
      setExit(EXIT.ok);
      exitWhenStuck(EXIT.ok);
    });

  const fleet = program.command('fleet').description("a miner's fleet of prover nodes");
  fleet
    .command('status')
    .description('live nodes (workers, models, proofs), the model table and the queue')
    .requiredOption('--redis <url>', "the fleet's Redis (redis://host:6379)")
    .option('--fleet <name>', 'the fleet name (the miner config\'s "fleet")', 'default')
    .action(async (opts: { redis: string; fleet: string }, cmd: Command) => {
      const s = await readFleetStatus(opts.redis, opts.fleet);
      if (cmd.optsWithGlobals<GlobalOptions>().json) io.out(JSON.stringify({ ok: true, ...s }));
      else printStatus(io, s);
      setExit(EXIT.ok);
    });
}
