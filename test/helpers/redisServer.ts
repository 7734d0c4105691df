import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The redis-server binary, or why there is none (tests that need it skip, printing this). */
export function redisServerBinary(): { path: string } | { missing: string } {
  try {
    return { path: execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim() };
  } catch {
    return {
      missing: 'redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)',
    };
  }
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGTERM and wait for the exit (a restart loses everything: no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True once the server answers PING. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.setTimeout(500);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** A real redis-server on a free loopback port, in a temp dir, without persistence. */
export async function startRedisServer(binary: string): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'zkinfer-redis-'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const p = spawn(binary, [...args, '--dir', dir, '--loglevel', 'warning'], { stdio: 'ignore' });
    child = p;
    exited = new Promise((resolve) => p.once('exit', () => resolve()));
    for (let i = 0; i < 100; i++) {
      if (await pings(port)) return;
      if (p.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    p.kill('SIGKILL');
    throw new Error(`redis-server did not start on 127.0.0.1:${port}`);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop: async () => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
