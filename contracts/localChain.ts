import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ZkinferError } from '../protocol/errors.ts';

const require = createRequire(import.meta.url);

export interface LocalChain {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a real Hardhat 2 JSON-RPC node on 127.0.0.1 (chain id 31337 unless told) and waits until it answers. */
export async function startHardhatNode(port?: number, chainId = 31337): Promise<LocalChain> {
  const p = port ?? (await freePort());
  const cli = require.resolve('hardhat/internal/cli/cli.js');
  const config = fileURLToPath(new URL('./hardhat.config.cjs', import.meta.url));
  const child = spawn(
    process.execPath,
    [cli, 'node', '--hostname', '127.0.0.1', '--port', String(p), '--config', config],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', ZKINFER_CHAIN_ID: String(chainId) },
    },
  );
  let log = '';
  child.stdout!.on('data', (d) => {
    log = (log + d).slice(-4000);
  });
  child.stderr!.on('data', (d) => {
    log = (log + d).slice(-4000);
  });
  const url = `http://127.0.0.1:${p}`;
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    const ok = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
    })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) {
      return {
        url,
        child,
        stop: async () => {
          if (child.exitCode === null) {
            child.kill('SIGCONT'); // a paused node cannot exit
            child.kill('SIGTERM');
          }
          await exited;
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new ZkinferError(
    'IO',
    `the local hardhat node did not start: ${log.split('\n').slice(-5).join(' ')}`,
  );
}
