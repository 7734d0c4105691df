import type { ChildProcess } from 'node:child_process';
import { startServiceProcess } from './serviceProcess.ts';

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
  const p = await startServiceProcess('miner', { host: '127.0.0.1', port: 0, ...config }, 'listening', env);
  return {
    url: String(p.ready['url']),
    hotkey: String(p.ready['hotkey']),
    logs: p.logs,
    child: p.child,
    stop: p.stop,
  };
}
