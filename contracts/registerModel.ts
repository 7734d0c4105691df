import { readFile } from 'node:fs/promises';
import type { Artifacts } from '../circuits/artifacts.ts';
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
