import { ContractFactory, FetchRequest, HDNodeWallet, JsonRpcProvider, Wallet } from 'ethers';
import type { Artifacts } from '../circuits/artifacts.ts';
import { ArtifactError } from '../protocol/errors.ts';
import { AvsClient, type AvsParams, DEFAULT_AVS_PARAMS, type Deployment, deployAvs } from './avsClient.ts';
import { compileVerifier } from './compileSolidity.ts';

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
 * Deploys the AVS on a local node, deploys the model's snarkjs verifier and registers the model,
 * and stakes and registers `operatorCount` operators (dev accounts 1..n; the outsider is n+1).
 */
export async function setUpLocalAvs(
  url: string,
  models: readonly Artifacts[],
  operatorCount = 3,
  params: AvsParams = DEFAULT_AVS_PARAMS,
): Promise<LocalAvs> {
  const provider = providerFor(url);
  const deployment = await deployAvs(devWallet(provider, 0), params);
  const owner = await AvsClient.connect(deployment, devWallet(provider, 0));
  for (const a of models) {
    const setup = a.manifest.setup;
    if (!setup)
      throw new ArtifactError('ARTIFACT_NOT_FOUND', `${a.dir} has no keys; run zkinfer setup first`);
    const verifier = await compileVerifier(a.paths.zkey);
    const v = await new ContractFactory(verifier.abi as never, verifier.bytecode, owner.signer).deploy();
    await v.waitForDeployment();
    await owner.send(owner.service, 'registerModel', [
      `0x${setup.modelId}`,
      await v.getAddress(),
      `0x${setup.vkeySha256}`,
      a.manifest.publicSignals.names.length,
    ]);
  }
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
