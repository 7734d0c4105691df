import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { ZkinferError } from '../protocol/errors.ts';

const require = createRequire(import.meta.url);

/** Version of the circom compiler inside the pinned circom2 package. */
export const CIRCOM_VERSION = '2.2.3';

export interface CircomRunOptions {
  /** Directory holding the circuit and every file it includes (circom2 cannot read above it). */
  readonly cwd: string;
  /** Circuit file, relative to cwd. */
  readonly file: string;
  /** Output directory, relative to cwd. */
  readonly outDir: string;
  /** Optimisation level: 2 (default) eliminates all linear constraints. */
  readonly optimize?: 0 | 1 | 2;
  /** Run circom's --inspect, which reports signals that no constraint pins down. */
  readonly inspect?: boolean;
}

/**
 * Compiles a circuit with the circom2 package (circom in WebAssembly) in a child process, so that
 * the compiler's exit and memory stay out of ours. Throws CIRCOM_FAILED with circom's own message.
 */
export async function runCircom(
  options: CircomRunOptions,
): Promise<{ stdout: string; seconds: number; warnings: string[]; peakMiB?: number }> {
  const cli = require.resolve('circom2/cli.js');
  const args = [
    cli,
    options.file,
    '--r1cs',
    '--wasm',
    '--sym',
    `--O${options.optimize ?? 2}`,
    // circom 2.2's default linear-simplification heuristics take over 15 min on a LeNet slice
    // whose layers are templates wired by their inputs (the old ones: 43 s, same constraints)
    '--use_old_simplification_heuristics',
    '-o',
    options.outDir,
  ];
  if (options.inspect) args.push('--inspect');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, highWaterMiB(child.pid));
    }, 250);
    const peakMiB = () => (peak > 0 ? { peakMiB: peak } : {});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (cause) =>
      reject(new ZkinferError('CIRCOM_FAILED', `could not start circom: ${cause.message}`, { cause })),
    );
    child.on('close', (code) => {
      clearInterval(sampler);
      const seconds = (performance.now() - started) / 1000;
      // circom2 reports some errors on stdout and may exit 0 after printing them
      const failed = code !== 0 || /error\[|previous errors were found/i.test(stdout + stderr);
      if (failed && onlyWatCleanupFailed(options, stdout, stderr)) {
        resolve({ stdout, seconds, warnings: inspectionWarnings(stdout + stderr), ...peakMiB() });
      } else if (failed) {
        const text = stripAnsi(stderr + stdout).trim();
        const outOfMemory = /memory allocation of \d+ bytes failed/.test(text);
        const firstError = outOfMemory
          ? "it ran out of WebAssembly's 4 GiB of memory (cut the model into smaller slices: --max-constraints)"
          : (text.split('\n').find((l) => /error/i.test(l)) ?? `exit code ${code}`);
        reject(
          new ZkinferError('CIRCOM_FAILED', `circom failed: ${firstError}`, { details: text.slice(0, 4000) }),
        );
      } else {
        resolve({ stdout, seconds, warnings: inspectionWarnings(stdout + stderr), ...peakMiB() });
      }
    });
  });
}

/** A process's peak resident memory so far (Linux's VmHWM), in MiB; 0 where /proc cannot tell. */
function highWaterMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function inspectionWarnings(text: string): string[] {
  return stripAnsi(text)
    .split('\n')
    .filter((l) => /^warning\[/.test(l.trim()))
    .map((l) => l.trim());
}

/**
 * circom 2.2.3 writes the witness wasm, then deletes its temporary .wat file with `unwrap()`;
 * under circom2's WASI layer that deletion fails with NotFound for large circuits (seen from
 * ~40k constraints) and the compiler panics after every output is written (upstream:
 * iden3/circom#376). That one panic is not a failed compile when the r1cs was reported written
 * and the wasm is complete and valid.
 */
export function onlyWatCleanupFailed(options: CircomRunOptions, stdout: string, stderr: string): boolean {
  const text = stripAnsi(stdout + stderr);
  if (!/panicked at circom\/src\/compilation_user\.rs/.test(text) || !/kind: NotFound/.test(text))
    return false;
  if (/error\[/i.test(text) || !/Written successfully: .*\.r1cs/.test(text)) return false;
  const name = basename(options.file, '.circom');
  const wasm = join(options.cwd, options.outDir, `${name}_js`, `${name}.wasm`);
  if (!existsSync(wasm)) return false;
  return WebAssembly.validate(readFileSync(wasm));
}

/** Removes terminal colour codes (circom colours its errors). */
function stripAnsi(text: string): string {
  const esc = String.fromCharCode(27);
  return text
    .split(esc)
    .map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, '')))
    .join('');
}
