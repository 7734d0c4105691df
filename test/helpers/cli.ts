import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './fixtures.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a real process and collects its output (never throws on a non-zero exit). */
export function runProcess(command: string, args: readonly string[], cwd = ROOT): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The zkinfer command as a user runs it. */
export function zkinfer(...args: string[]): Promise<CliResult> {
  return runProcess(process.execPath, [join(ROOT, 'scripts', 'zkinfer.mjs'), ...args]);
}

/** The stock snarkjs CLI, for agreement checks. */
export function snarkjsCli(...args: string[]): Promise<CliResult> {
  const cli = join(createRequire(import.meta.url).resolve('snarkjs'), '..', 'cli.cjs');
  return runProcess(process.execPath, [cli, ...args]);
}

/**
 * The zkinfer CLI run in this process (same code as the command, without a process start): for
 * tests that call a verb many times. Output lines are collected; the exit code is returned.
 */
export async function zkinferInProcess(...args: string[]): Promise<CliResult> {
  const { main } = await import('../../scripts/cli/main.ts');
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'zkinfer', ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    isTTY: false,
  });
  const text = (lines: string[]) => (lines.length ? `${lines.join('\n')}\n` : '');
  return { code, stdout: text(out), stderr: text(err) };
}
