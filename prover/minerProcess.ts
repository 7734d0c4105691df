import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZkinferError } from '../protocol/errors.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface MinerProcess {
  readonly url: string;
  readonly hotkey: string;
  readonly logs: string[];
  readonly child: ChildProcess;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `zkinfer miner` as a real process (loopback by default) and waits until it listens. */
export async function startMinerProcess(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<MinerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'zkinfer-miner-'));
  const file = join(dir, 'miner.json');
  await writeFile(file, JSON.stringify({ host: '127.0.0.1', port: 0, ...config }));
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'zkinfer.mjs'), 'miner', '--config', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<{ url: string; hotkey: string }>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        try {
          const e = JSON.parse(line) as { msg?: string; url?: string; hotkey?: string };
          if (e.msg === 'listening') resolve({ url: e.url!, hotkey: e.hotkey! });
        } catch {
          /* not a log line */
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    void exited.then((code) =>
      reject(
        new ZkinferError('IO', `the miner exited (${code ?? 'by a signal'}) before listening`, {
          details: logs.join('\n'),
        }),
      ),
    );
  });
  const { url, hotkey } = await ready;
  return {
    url,
    hotkey,
    logs,
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
