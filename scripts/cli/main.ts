import { Command, CommanderError } from 'commander';
import { toolVersions } from '../../circuits/version.ts';
import { registerAvsCommands } from './avsCommands.ts';
import { registerCompileCommands } from './compileCommands.ts';
import { registerDemoCommand } from './demoCommand.ts';
import { registerMinerCommand } from './minerCommand.ts';
import { EXIT, type Io, processIo, reportError } from './output.ts';
import { registerProofCommands } from './proofCommands.ts';
import { registerSubnetCommands } from './subnetCommands.ts';
import { registerValidatorCommands } from './validatorCommands.ts';
import { registerWatchCommand } from './watchCommand.ts';

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
  registerCompileCommands(program, io, setExit);
  registerProofCommands(program, io, setExit);
  registerMinerCommand(program, io, setExit);
  registerValidatorCommands(program, io, setExit);
  registerSubnetCommands(program, io, setExit);
  registerDemoCommand(program, io, setExit);
  registerWatchCommand(program, io, setExit);
  registerAvsCommands(program, io, setExit);
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
