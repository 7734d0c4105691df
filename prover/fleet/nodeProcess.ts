import { type ServiceProcess, startServiceProcess } from '../serviceProcess.ts';

export interface NodeProcess extends ServiceProcess {
  readonly id: string;
  /** Where its /metrics and /health are served. */
  readonly url: string;
}

/** Starts `zkinfer prover-node` as a real process and waits until it has joined its fleet. */
export async function startNodeProcess(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<NodeProcess> {
  const p = await startServiceProcess(
    'prover-node',
    { host: '127.0.0.1', port: 0, ...config },
    'joined',
    env,
  );
  return { ...p, id: String(p.ready['node']), url: String(p.ready['url']) };
}
