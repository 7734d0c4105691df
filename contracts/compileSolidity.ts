import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../circuits/hashing.ts';
import { ZkinferError } from '../protocol/errors.ts';

const require = createRequire(import.meta.url);
/** The pinned solc-js release; loading the compiler itself takes ~0.9 s, so only a cache miss does. */
const SOLC_VERSION = (require('solc/package.json') as { version: string }).version;
const solc = () => require('solc') as { compile(input: string): string };
const SRC = fileURLToPath(new URL('./src', import.meta.url));
const CACHE = fileURLToPath(new URL('../.zkinfer-cache/solc', import.meta.url));

export interface CompiledContract {
  readonly abi: unknown[];
  readonly bytecode: string;
  /** The runtime code a deployment leaves on chain (these contracts have no immutables in it). */
  readonly deployedBytecode: string;
}

/** Compiles Solidity sources with the pinned solc-js (no download); results are cached by content. */
export async function compileSources(
  sources: Record<string, string>,
): Promise<Record<string, CompiledContract>> {
  const key = sha256Hex(JSON.stringify({ sources, solc: SOLC_VERSION, outputs: 2 }));
  const cached = join(CACHE, `${key}.json`);
  if (existsSync(cached))
    return JSON.parse(await readFile(cached, 'utf8')) as Record<string, CompiledContract>;
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([k, content]) => [k, { content }])),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      viaIR: true, // the batched TaskManager needs the IR pipeline (stack depth)
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc().compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<
      string,
      Record<
        string,
        { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }
      >
    >;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0)
    throw new ZkinferError('IO', `solc failed: ${errors[0]!.formattedMessage.split('\n')[0]}`, {
      details: errors.map((e) => e.formattedMessage).join('\n'),
    });
  const result: Record<string, CompiledContract> = {};
  for (const file of Object.values(output.contracts)) {
    for (const [name, c] of Object.entries(file))
      result[name] = {
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      };
  }
  await mkdir(CACHE, { recursive: true });
  await writeFile(cached, JSON.stringify(result));
  return result;
}

/** The AVS contracts in contracts/src. */
export async function compileAvs(): Promise<Record<string, CompiledContract>> {
  const sources: Record<string, string> = {};
  for (const f of (await readdir(SRC)).filter((n) => n.endsWith('.sol')).sort())
    sources[f] = await readFile(join(SRC, f), 'utf8');
  return compileSources(sources);
}
