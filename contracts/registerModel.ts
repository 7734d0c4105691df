import { readFile } from 'node:fs/promises';
import type { Artifacts } from '../circuits/artifacts.ts';
import { type SlicedModel, slicedModelId } from '../circuits/slicedModel.ts';
import { ArtifactError, ZkinferError } from '../protocol/errors.ts';
import type { AvsClient } from './avsClient.ts';
import { encodeVerifyingKey, type SnarkjsVkey } from './verifyingKey.ts';

/**
 * Registers a model with the service manager (owner only) by its verification key: the service
 * manager writes the key on chain and records its keccak as vkHash, so no separate verifier is
 * deployed and the registered hash cannot name another key. Returns the key contract's address.
 */
export async function registerModel(owner: AvsClient, a: Artifacts): Promise<string> {
  const setup = a.manifest.setup;
  if (!setup) throw new ArtifactError('ARTIFACT_NOT_FOUND', `${a.dir} has no keys; run zkinfer setup first`);
  const vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8')) as SnarkjsVkey;
  const receipt = await owner.send(owner.service, 'registerModel', [
    `0x${setup.modelId}`,
    encodeVerifyingKey(vkey),
  ]);
  const ev = owner.events(receipt).find((e) => e.name === 'ModelRegistered');
  if (!ev) throw new ZkinferError('IO', 'registerModel emitted no ModelRegistered');
  return String(ev.args[1]);
}

/**
 * Registers a sliced model: each slice's key first (a slice another sliced model shares is
 * registered once), then the slice list, whose modelId the service manager computes itself.
 * Returns that modelId (hex, no 0x), which must be the one zkinfer serves the model under.
 */
export async function registerSlicedModel(owner: AvsClient, m: SlicedModel): Promise<string> {
  const ids: string[] = [];
  for (const a of m.slices) {
    const id = a.manifest.setup?.modelId;
    if (!id) throw new ArtifactError('ARTIFACT_NOT_FOUND', `${a.dir} has no keys; run zkinfer setup first`);
    const [key] = (await owner.service.getFunction('modelOf')(`0x${id}`)) as [string];
    if (BigInt(key) === 0n) await registerModel(owner, a);
    ids.push(`0x${id}`);
  }
  const receipt = await owner.send(owner.service, 'registerSlicedModel', [ids]);
  const ev = owner.events(receipt).find((e) => e.name === 'SlicedModelRegistered');
  if (!ev) throw new ZkinferError('IO', 'registerSlicedModel emitted no SlicedModelRegistered');
  const onChain = String(ev.args[0]).slice(2);
  if (onChain !== slicedModelId(m))
    throw new ZkinferError('IO', `the chain names the sliced model ${onChain}, zkinfer ${slicedModelId(m)}`);
  return onChain;
}

/** Registers either kind of model. */
export async function registerAnyModel(owner: AvsClient, model: Artifacts | SlicedModel): Promise<void> {
  if ('slices' in model) await registerSlicedModel(owner, model);
  else await registerModel(owner, model);
}
