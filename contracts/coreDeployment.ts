import { readFile } from 'node:fs/promises';
import { type Contract, ContractFactory, getAddress, isAddress, type Signer } from 'ethers';
import { ZkinferError } from '../protocol/errors.ts';
import { type CompiledContract, compileAvs } from './compileSolidity.ts';

/**
 * EigenLayer core as the AVS uses it: on a real network the addresses of EigenLayer's deployed
 * contracts (from a deployment file), locally the mirror deployed by `deployMirrorCore`. The AVS
 * makes the same calls either way.
 */
export interface CoreDeployment {
  readonly allocationManager: string;
  readonly delegationManager: string;
  readonly strategyManager: string;
  /** The strategies the AVS's operator set counts and slashes (their shares are summed as stake). */
  readonly strategies: readonly string[];
  /** The underlying token of the strategies (operators deposit it). */
  readonly token: string;
}

/** EigenLayer core (real or mirror) and the AVS contracts deployed over it. */
export interface Deployment extends CoreDeployment {
  readonly serviceManager: string;
  readonly registrar: string;
  readonly taskManager: string;
}

/** Delays of the local mirror, in blocks (EigenLayer's testnet uses 50 for deallocations). */
export interface MirrorParams {
  readonly deallocationDelay: number;
  readonly allocationConfigurationDelay: number;
  readonly minWithdrawalDelay: number;
}

export const DEFAULT_MIRROR_PARAMS: MirrorParams = Object.freeze({
  deallocationDelay: 20,
  allocationConfigurationDelay: 5,
  minWithdrawalDelay: 20,
});

const CORE_KEYS = [
  'allocationManager',
  'delegationManager',
  'strategyManager',
  'strategies',
  'token',
] as const;
const AVS_KEYS = ['serviceManager', 'registrar', 'taskManager'] as const;

/**
 * Checks a core deployment: every address well-formed, at least one strategy, strategies strictly
 * ascending (EigenLayer's slashOperator requires that order), no unknown key.
 */
export function parseCoreDeployment(raw: unknown, source = 'core deployment'): CoreDeployment {
  return parse(raw, source, CORE_KEYS);
}

/** Checks a deployment file: the core's addresses and the AVS's. */
export function parseDeployment(raw: unknown, source = 'deployment'): Deployment {
  const core = parse(raw, source, [...CORE_KEYS, ...AVS_KEYS]);
  const o = raw as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const k of AVS_KEYS) {
    const v = o[k];
    if (typeof v !== 'string' || !isAddress(v))
      throw new ZkinferError(
        'INVALID_INPUT',
        `${source}: "${k}" must be an address, got ${JSON.stringify(v)}`,
      );
    out[k] = getAddress(v);
  }
  return {
    ...core,
    serviceManager: out['serviceManager']!,
    registrar: out['registrar']!,
    taskManager: out['taskManager']!,
  };
}

function parse(raw: unknown, source: string, keys: readonly string[]): CoreDeployment {
  const bad = (what: string) => new ZkinferError('INVALID_INPUT', `${source}: ${what}`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('must be a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw bad(`unknown key "${k}" (expected ${keys.join(', ')})`);
  }
  const address = (k: string, v: unknown): string => {
    if (typeof v !== 'string' || !isAddress(v))
      throw bad(`"${k}" must be an address, got ${JSON.stringify(v)}`);
    return getAddress(v);
  };
  const strategies = o['strategies'];
  if (!Array.isArray(strategies) || strategies.length === 0)
    throw bad('"strategies" must be a non-empty array of addresses');
  const list = strategies.map((s, i) => address(`strategies[${i}]`, s));
  for (let i = 1; i < list.length; i++) {
    if (BigInt(list[i]!) <= BigInt(list[i - 1]!))
      throw bad('"strategies" must be strictly ascending by address (EigenLayer slashes them in that order)');
  }
  return {
    allocationManager: address('allocationManager', o['allocationManager']),
    delegationManager: address('delegationManager', o['delegationManager']),
    strategyManager: address('strategyManager', o['strategyManager']),
    strategies: list,
    token: address('token', o['token']),
  };
}

export async function readCoreDeployment(path: string): Promise<CoreDeployment> {
  return parseCoreDeployment(await readJsonFile(path, 'core deployment'), path);
}

export async function readDeployment(path: string): Promise<Deployment> {
  return parseDeployment(await readJsonFile(path, 'deployment'), path);
}

async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ZkinferError('IO', `cannot read the ${what} file ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ZkinferError('INVALID_INPUT', `${path} is not JSON: ${(cause as Error).message}`, { cause });
  }
}

export async function deployContract(
  c: CompiledContract,
  signer: Signer,
  ...args: unknown[]
): Promise<Contract> {
  const f = new ContractFactory(c.abi as never, c.bytecode, signer);
  const contract = await f.deploy(...args);
  await contract.waitForDeployment();
  return contract as Contract;
}

async function call(contract: Contract, method: string, ...args: unknown[]): Promise<void> {
  const tx = (await contract.getFunction(method)(...args)) as { wait(): Promise<unknown> };
  await tx.wait();
}

/**
 * Deploys the local mirror of EigenLayer's core: a stake token (the signer mints), the delegation
 * manager (also the strategy manager), the allocation manager and one strategy over the token.
 */
export async function deployMirrorCore(
  signer: Signer,
  params: MirrorParams = DEFAULT_MIRROR_PARAMS,
): Promise<CoreDeployment> {
  const c = await compileAvs();
  const token = await deployContract(c['StakeToken']!, signer);
  const delegation = await deployContract(c['MirrorDelegationManager']!, signer, params.minWithdrawalDelay);
  const alloc = await deployContract(
    c['MirrorAllocationManager']!,
    signer,
    await delegation.getAddress(),
    params.deallocationDelay,
    params.allocationConfigurationDelay,
  );
  await call(delegation, 'initialize', await alloc.getAddress());
  const strategy = await deployContract(
    c['MirrorStrategy']!,
    signer,
    await token.getAddress(),
    await delegation.getAddress(),
  );
  await call(delegation, 'addStrategyToWhitelist', await strategy.getAddress());
  return {
    allocationManager: await alloc.getAddress(),
    delegationManager: await delegation.getAddress(),
    strategyManager: await delegation.getAddress(),
    strategies: [await strategy.getAddress()],
    token: await token.getAddress(),
  };
}
