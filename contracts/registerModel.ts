import { ContractFactory } from 'ethers';
import type { Artifacts } from '../circuits/artifacts.ts';
import { ArtifactError } from '../protocol/errors.ts';
import type { AvsClient } from './avsClient.ts';
import { compileVerifier } from './compileSolidity.ts';

/**
 * Deploys a model's snarkjs verifier and registers the model with the service manager (owner
 * only): modelId → verifier, vkHash, public signal count. Returns the verifier's address.
 */
export async function registerModel(owner: AvsClient, a: Artifacts): Promise<string> {
  const setup = a.manifest.setup;
  if (!setup) throw new ArtifactError('ARTIFACT_NOT_FOUND', `${a.dir} has no keys; run zkinfer setup first`);
  const verifier = await compileVerifier(a.paths.zkey);
  const v = await new ContractFactory(verifier.abi as never, verifier.bytecode, owner.signer).deploy();
  await v.waitForDeployment();
  const address = await v.getAddress();
  await owner.send(owner.service, 'registerModel', [
    `0x${setup.modelId}`,
    address,
    `0x${setup.vkeySha256}`,
    a.manifest.publicSignals.names.length,
  ]);
  return address;
}
