import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZkinferError } from '../protocol/errors.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ServiceProcess {
  /** The log line (parsed) that said the service is ready. */
  readonly ready: Record<string, unknown>;
  readonly logs: string[];
  readonly child: ChildProcess;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash, a pulled plug) and wait for the exit. */
  kill(): Promise<number | null>;
}

/**
 * Starts a long-running zkinfer command (`miner`, `prover-node`) as a real process with its config
 * in a temp file, and waits for its JSON log line whose `msg` is `readyMsg`. Exiting first is an
 * error carrying the process's output.
 */
export async function startServiceProcess(
  verb: string,
  config: Record<string, unknown>,
  readyMsg: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const dir = await mkdtemp(join(tmpdir(), `zkinfer-${verb}-`));
  const file = join(dir, `${verb}.json`);
  await writeFile(file, JSON.stringify(config));
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'zkinfer.mjs'), verb, '--config', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        try {
          const e = JSON.parse(line) as Record<string, unknown>;
          if (e['msg'] === readyMsg) resolve(e);
        } catch {
          /* not a log line */
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    void exited.then((code) =>
      reject(
        new ZkinferError('IO', `zkinfer ${verb} exited (${code ?? 'by a signal'}) before it was ready`, {
          details: logs.join('\n'),
        }),
      ),
    );
  });
  return {
    ready: await ready,
    logs,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}
