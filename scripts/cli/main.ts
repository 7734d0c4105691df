import { Command, CommanderError } from 'commander';
import { toolVersions } from '../../circuits/version.ts';
import { EXIT, type Io, processIo, reportError } from './output.ts';

type Register = (program: Command, io: Io, setExit: (code: number) => void) => void;

/**
 * The modules that register the commands, in help order, with the top-level commands each owns.
 * A run loads only its command's module: the packages behind the others (snarkjs, circomlibjs,
 * ethers, the sr25519 keyring) cost over a second of start-up. Help and unknown commands load all.
 */
export const MODULES: readonly { commands: readonly string[]; load: () => Promise<Register> }[] = [
  {
    commands: ['compile', 'run'],
    load: async () => (await import('./compileCommands.ts')).registerCompileCommands,
  },
  {
    commands: ['ptau', 'setup', 'prove', 'verify', 'audit'],
    load: async () => (await import('./proofCommands.ts')).registerProofCommands,
  },
  { commands: ['miner'], load: async () => (await import('./minerCommand.ts')).registerMinerCommand },
  {
    commands: ['prover-node', 'fleet'],
    load: async () => (await import('./fleetCommands.ts')).registerFleetCommands,
  },
  {
    commands: ['validator', 'scores', 'replay-scores'],
    load: async () => (await import('./validatorCommands.ts')).registerValidatorCommands,
  },
  {
    commands: ['gateway', 'request'],
    load: async () => (await import('./gatewayCommands.ts')).registerGatewayCommands,
  },
  { commands: ['subnet'], load: async () => (await import('./subnetCommands.ts')).registerSubnetCommands },
  { commands: ['demo'], load: async () => (await import('./demoCommand.ts')).registerDemoCommand },
  { commands: ['watch'], load: async () => (await import('./watchCommand.ts')).registerWatchCommand },
  { commands: ['avs'], load: async () => (await import('./avsCommands.ts')).registerAvsCommands },
];

/** The modules a command line needs: its command's, or all of them (help, unknown, none). */
function modulesFor(argv: readonly string[]): typeof MODULES {
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  const owner = MODULES.find((m) => command !== undefined && m.commands.includes(command));
  return owner ? [owner] : MODULES;
}

/** Runs the CLI and returns the exit code (never calls process.exit, so cleanup always runs). */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let exit: number = EXIT.ok;
  const setExit = (code: number) => {
    exit = code;
  };
  const program = new Command()
    .name('zkinfer')
    .description('zkML proving subnet: compile ONNX models to Groth16 circuits, prove, verify, audit')
    .version(toolVersions()['zkinfer'] ?? '0.0.0')
    .option('--json', 'machine-readable output')
    .option('--verbose', 'print stack traces and details on errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  for (const m of modulesFor(argv)) (await m.load())(program, io, setExit);
  const globals = () => program.opts<{ json?: boolean; verbose?: boolean }>();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander
      exit = error.exitCode === 0 ? EXIT.ok : EXIT.error;
    } else {
      exit = reportError(io, error, globals());
    }
  } finally {
    await terminateCurve();
  }
  return exit;
}

/** snarkjs keeps worker threads (and so the process) alive until its curve is terminated. */
async function terminateCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
  if (g.curve_bn128) {
    await g.curve_bn128.terminate();
    delete g.curve_bn128;
  }
}
