import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInputError, ZkinferError } from '../../protocol/errors.ts';
import { type Hotkey, hotkeyFromFile, hotkeyFromUri } from '../../protocol/keys.ts';
import { LocalSubtensor } from '../../subnet/localSubtensor.ts';
import { type GlobalOptions, parseIntOption } from './compileCommands.ts';
import { EXIT, type Io } from './output.ts';

const openChain = (file: string) => LocalSubtensor.openExisting(file);

/** The metagraph `subnet status` shows: a local state file's, or a real chain's (--network, --netuid). */
async function statusMetagraph(opts: { state?: string; network?: string; netuid?: string; block?: string }) {
  if ((opts.state === undefined) === (opts.network === undefined))
    throw new InvalidInputError(
      'subnet status needs either --state <file> or --network <name|url>',
      'INVALID_OPTION',
    );
  if (opts.state !== undefined) return openChain(opts.state).metagraph();
  const chain = await openNetwork('status', {
    network: opts.network!,
    ...(opts.netuid ? { netuid: opts.netuid } : {}),
  });
  try {
    return await chain.metagraph(
      opts.block === undefined ? undefined : parseIntOption('--block', opts.block),
    );
  } finally {
    await chain.close();
  }
}

/** A chain client for --network/--netuid, signing with `signer` (loaded only here: the registry costs start-up). */
async function openNetwork(command: string, opts: { network: string; netuid?: string }, signer?: Hotkey) {
  if (opts.netuid === undefined)
    throw new InvalidInputError(`subnet ${command} --network needs --netuid <n>`, 'INVALID_OPTION');
  const { ChainSubtensor } = await import('../../subnet/chain/chainSubtensor.ts');
  return ChainSubtensor.connect({
    network: opts.network,
    netuid: parseIntOption('--netuid', opts.netuid),
    ...(signer ? { signer } : {}),
  });
}

/** A key given as a wallet key file (when the path exists) or a URI / mnemonic. */
async function keyFrom(option: string, value: string | undefined): Promise<Hotkey> {
  if (value === undefined)
    throw new InvalidInputError(
      `with --network, give the signing key with ${option} <file|uri>`,
      'INVALID_OPTION',
    );
  return existsSync(value) ? hotkeyFromFile(value) : hotkeyFromUri(value);
}

/** Exactly one of --state and --network. */
function oneChain(command: string, opts: { state?: string; network?: string }): void {
  if ((opts.state === undefined) === (opts.network === undefined))
    throw new InvalidInputError(
      `subnet ${command} needs either --state <file> or --network <name|url>`,
      'INVALID_OPTION',
    );
}

export function registerSubnetCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const subnet = program
    .command('subnet')
    .description(
      'the local subtensor (metagraph, Yuma Consensus explanations), or a real chain with --network',
    );
  subnet
    .command('init')
    .description('start a local subtensor state file')
    .requiredOption('--state <file>', 'state file to create')
    .option('--tempo <blocks>', 'blocks per epoch', '10')
    .action(async (opts: { state: string; tempo: string }) => {
      if (existsSync(opts.state)) throw new ZkinferError('IO', `${opts.state} already exists`);
      LocalSubtensor.open(opts.state, { tempo: parseIntOption('--tempo', opts.tempo) });
      io.out(`local subtensor created at ${opts.state}`);
      setExit(EXIT.ok);
    });
  subnet
    .command('register')
    .description(
      'register a hotkey: on the local subtensor (idempotent, optionally with stake), or on a real chain by burned_register',
    )
    .argument('<hotkey>', 'ss58 address')
    .option('--state <file>', 'local subtensor state file')
    .option('--stake <amount>', 'local: stake to add', '0')
    .option('--network <name|url>', 'a real chain instead: finney, test, local or ws(s)://…')
    .option('--netuid <n>', 'with --network: the subnet')
    .option(
      '--coldkey <file|uri>',
      'with --network: the coldkey that pays the burn and owns the hotkey (wallet key file, URI or mnemonic)',
    )
    .action(
      async (
        hotkey: string,
        opts: { state?: string; stake: string; network?: string; netuid?: string; coldkey?: string },
      ) => {
        oneChain('register', opts);
        if (opts.network !== undefined) {
          if (opts.stake !== '0')
            throw new InvalidInputError(
              '--stake is for the local subtensor; stake on a real chain with your wallet',
              'INVALID_OPTION',
            );
          const coldkey = await keyFrom('--coldkey', opts.coldkey);
          const chain = await openNetwork('register', {
            network: opts.network,
            ...(opts.netuid ? { netuid: opts.netuid } : {}),
          });
          try {
            await chain.burnedRegister(hotkey, coldkey);
            const uid = (await chain.metagraph()).neurons.find((n) => n.hotkey === hotkey)?.uid;
            io.out(
              `${hotkey} is registered on subnet ${chain.netuid}${uid === undefined ? '' : ` as uid ${uid}`}`,
            );
          } finally {
            await chain.close();
          }
          setExit(EXIT.ok);
          return;
        }
        const chain = openChain(opts.state!);
        const uid = chain.register(hotkey);
        const stake = Number(opts.stake);
        if (!Number.isFinite(stake) || stake < 0)
          throw new InvalidInputError(
            `--stake must be a non-negative number, got "${opts.stake}"`,
            'INVALID_OPTION',
          );
        if (stake > 0) chain.addStake(hotkey, stake);
        io.out(`${hotkey} is uid ${uid}`);
        setExit(EXIT.ok);
      },
    );
  subnet
    .command('serve')
    .description("announce a miner's axon (serve_axon)")
    .argument('<hotkey>', 'ss58 address')
    .argument('<url>', 'axon URL, e.g. http://127.0.0.1:8091')
    .option('--state <file>', 'local subtensor state file')
    .option('--network <name|url>', 'a real chain instead: finney, test, local or ws(s)://…')
    .option('--netuid <n>', 'with --network: the subnet')
    .option('--key <file|uri>', "with --network: the hotkey's key, which signs serve_axon")
    .action(
      async (
        hotkey: string,
        url: string,
        opts: { state?: string; network?: string; netuid?: string; key?: string },
      ) => {
        oneChain('serve', opts);
        if (opts.network !== undefined) {
          const key = await keyFrom('--key', opts.key);
          if (key.ss58 !== hotkey)
            throw new InvalidInputError(
              `--key is the key of ${key.ss58}, not of ${hotkey}`,
              'INVALID_OPTION',
            );
          const chain = await openNetwork(
            'serve',
            { network: opts.network, ...(opts.netuid ? { netuid: opts.netuid } : {}) },
            key,
          );
          try {
            await chain.serveAxon(hotkey, url);
          } finally {
            await chain.close();
          }
          io.out(`${hotkey} serves ${url} on subnet ${chain.netuid}`);
          setExit(EXIT.ok);
          return;
        }
        await openChain(opts.state!).serveAxon(hotkey, url);
        io.out(`${hotkey} serves ${url}`);
        setExit(EXIT.ok);
      },
    );
  subnet
    .command('advance')
    .description('advance the block clock (an epoch runs every tempo blocks)')
    .requiredOption('--state <file>', 'local subtensor state file')
    .option('--blocks <n>', 'blocks to advance', '1')
    .action(async (opts: { state: string; blocks: string }) => {
      const chain = openChain(opts.state);
      const epochs = chain.advance(parseIntOption('--blocks', opts.blocks));
      io.out(`block ${chain.block}; ${epochs.length} epoch(s) ran`);
      setExit(EXIT.ok);
    });
  subnet
    .command('status')
    .description('metagraph: uid, hotkey, stake, permit, incentive, dividends, emission, last update')
    .option('--state <file>', 'local subtensor state file')
    .option('--network <name|url>', 'a real chain instead: finney, test, local or ws(s)://…')
    .option('--netuid <n>', 'with --network: the subnet')
    .option('--block <n>', 'with --network: read at this block instead of the head')
    .action(
      async (opts: { state?: string; network?: string; netuid?: string; block?: string }, cmd: Command) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        const mg = await statusMetagraph(opts);
        if (g.json) io.out(JSON.stringify({ ok: true, ...mg }));
        else {
          io.out(`block ${mg.block}, ${mg.neurons.length} neurons`);
          io.out(
            'uid  hotkey            stake     permit  incentive  dividends  emission(rao)  total(rao)     last update',
          );
          for (const n of mg.neurons) {
            io.out(
              `${String(n.uid).padEnd(4)} ${n.hotkey.slice(0, 16).padEnd(17)} ${String(n.stake).padEnd(9)} ${(n.validatorPermit ? 'yes' : 'no').padEnd(7)} ${n.incentive.toFixed(4).padEnd(10)} ${n.dividends.toFixed(4).padEnd(10)} ${String(n.emission).padEnd(14)} ${String(n.totalEmission).padEnd(14)} ${n.lastUpdate}`,
            );
          }
        }
        setExit(EXIT.ok);
      },
    );
  subnet
    .command('explain')
    .description("the consensus, clipping and bonds behind a uid's emission in the last epoch")
    .argument('<uid>', 'neuron uid')
    .requiredOption('--state <file>', 'local subtensor state file')
    .action(async (uidText: string, opts: { state: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const e = openChain(opts.state).explain(Number(uidText));
      if (g.json) io.out(JSON.stringify({ ok: true, ...e }));
      else {
        io.out(`uid ${e.uid} (${e.hotkey}), epoch at block ${e.epochBlock}`);
        io.out(
          `consensus ${e.consensus.toFixed(6)} = stake-weighted median (kappa) of the weights it received:`,
        );
        for (const w of e.weightsReceived) {
          io.out(
            `  validator ${w.validator}: weight ${w.weight.toFixed(6)} → clipped ${w.clipped.toFixed(6)} (active stake ${w.stake.toFixed(4)})`,
          );
        }
        io.out(`incentive ${e.incentive.toFixed(6)} = normalised Σ stake × clipped weight`);
        if (e.bondsHeld.length)
          io.out(
            `bonds held: ${e.bondsHeld.map((b) => `miner ${b.miner}: ${b.bond.toFixed(4)}`).join(', ')}`,
          );
        io.out(`dividends ${e.dividends.toFixed(6)} = normalised Σ bonds × incentive`);
        io.out(`emission ${e.emission} rao this epoch (owner cut so far: ${e.ownerEmission} rao)`);
      }
      setExit(EXIT.ok);
    });
}
