import { FetchRequest, HDNodeWallet, JsonRpcProvider, Wallet } from 'ethers';
import type { Artifacts } from '../circuits/artifacts.ts';
import type { SlicedModel } from '../circuits/slicedModel.ts';
import { AvsClient, type AvsParams, DEFAULT_AVS_PARAMS, type Deployment, deployAvs } from './avsClient.ts';
import {
  type CoreDeployment,
  DEFAULT_MIRROR_PARAMS,
  deployMirrorCore,
  type MirrorParams,
} from './coreDeployment.ts';
import { registerAnyModel } from './registerModel.ts';

/** Hardhat's well-known development mnemonic: its accounts are pre-funded on a local node. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

/** A provider whose requests time out (ethers waits 5 minutes by default), so a stalled node is an error, not a hang. */
export function providerFor(url: string, timeoutMs = 4_000): JsonRpcProvider {
  const req = new FetchRequest(url);
  req.timeout = timeoutMs;
  return new JsonRpcProvider(req, undefined, {
    staticNetwork: true,
    polling: true,
    pollingInterval: 50,
    cacheTimeout: -1,
  });
}

/** Dev account i of the local node. */
export function devWallet(provider: JsonRpcProvider, i: number): Wallet {
  return new Wallet(
    HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey,
    provider,
  );
}

export interface LocalAvs {
  readonly provider: JsonRpcProvider;
  readonly deployment: Deployment;
  /** Deployer: owns the service manager and the token; consumer of tasks in demos. */
  readonly owner: AvsClient;
  /** Registered operators with stake 100, 200, 300 … tokens. */
  readonly operators: AvsClient[];
  /** A funded account that is not an operator. */
  readonly outsider: AvsClient;
}

/**
 * Deploys EigenLayer core's local mirror (unless `core` names an existing core) and the AVS over it
 * on a local node, registers the models by their verification keys (a sliced model by its slices'), and makes
 * `operatorCount` operators (dev accounts 1..n; the outsider is n+1) that deposit, allocate all
 * their stake to the AVS's operator set and register for it.
 */
export async function setUpLocalAvs(
  url: string,
  models: readonly (Artifacts | SlicedModel)[],
  operatorCount = 3,
  params: AvsParams = DEFAULT_AVS_PARAMS,
  core?: CoreDeployment,
  mirror: MirrorParams = DEFAULT_MIRROR_PARAMS,
): Promise<LocalAvs> {
  const provider = providerFor(url);
  const deployer = devWallet(provider, 0);
  const deployment = await deployAvs(deployer, core ?? (await deployMirrorCore(deployer, mirror)), params);
  const owner = await AvsClient.connect(deployment, devWallet(provider, 0));
  for (const a of models) await registerAnyModel(owner, a);
  const operators: AvsClient[] = [];
  for (let i = 0; i < operatorCount; i++) {
    const op = await AvsClient.connect(deployment, devWallet(provider, i + 1));
    await owner.send(owner.token, 'mint', [await op.address(), 10n ** 21n]);
    await op.stakeAndRegister(BigInt(i + 1) * 10n ** 20n);
    operators.push(op);
  }
  const outsider = await AvsClient.connect(deployment, devWallet(provider, operatorCount + 1));
  return { provider, deployment, owner, operators, outsider };
}
