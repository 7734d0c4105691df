import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import * as snarkjs from 'snarkjs';
import { ZkinferError } from '../../protocol/errors.ts';
import { openArtifacts, requireFile } from '../artifacts.ts';
import { canonicalJson } from '../canonicalJson.ts';
import { sha256File, sha256Hex } from '../hashing.ts';
import { type Manifest, type SetupRecord, writeManifest } from '../manifest.ts';
import type { DevPtauRecord } from './devPtau.ts';
import { readDevSecrets } from './devSecrets.ts';
import { writeInitialZkey } from './initialZkey.ts';
import { readPtauInfo, requiredPower } from './ptauInfo.ts';

/** modelId = sha256 of the canonical verification key: the key commits to the weights. */
export function modelIdOf(vkey: unknown): string {
  return sha256Hex(canonicalJson(vkey));
}

/** Whether a ptau is a zkinfer dev ptau: a sidecar `<ptau>.json` record whose hash matches the file. */
export async function isDevPtau(ptauPath: string, sha256: string): Promise<boolean> {
  const sidecar = `${ptauPath}.json`;
  if (!existsSync(sidecar)) return false;
  try {
    const rec = JSON.parse(await readFile(sidecar, 'utf8')) as Partial<DevPtauRecord>;
    return rec.kind === 'zkinfer-dev-ptau' && rec.sha256 === sha256;
  } catch {
    return false;
  }
}

export interface SetupResult {
  readonly manifest: Manifest;
  readonly setup: SetupRecord;
}

/**
 * Groth16 circuit-specific setup with one random contribution: writes circuit.zkey and
 * verification_key.json and records hashes (and whether the ptau is an insecure dev one). With a
 * dev ptau whose secrets are kept (devSecrets.ts) the initial zkey is computed from them, the file
 * snarkjs's `zkey new` would write, in seconds; the contribution is always snarkjs's.
 */
export async function setupArtifacts(
  dir: string,
  ptauPath: string,
  onProgress: (m: string) => void = () => {},
): Promise<SetupResult> {
  const a = await openArtifacts(dir);
  const r1cs = requireFile(a.paths.r1cs, 'compiled circuit (r1cs)', 'run zkinfer compile first');
  const info = await readPtauInfo(ptauPath);
  const need = requiredPower(a.manifest.circuit.constraints, a.manifest.circuit.publicInputs);
  if (!info.prepared) {
    throw new ZkinferError(
      'PTAU_INVALID',
      `${ptauPath} is not prepared for phase 2 (run snarkjs powersoftau prepare phase2 on it)`,
    );
  }
  if (info.power < need) {
    throw new ZkinferError(
      'PTAU_TOO_SMALL',
      `the circuit has ${a.manifest.circuit.constraints} constraints and needs a ptau of power ${need} or more; ${basename(ptauPath)} has power ${info.power}`,
    );
  }
  const ptauSha = await sha256File(ptauPath);
  const dev = await isDevPtau(ptauPath, ptauSha);
  const initial = `${a.paths.zkey}.0.tmp`;
  let contributionHash: Uint8Array;
  try {
    onProgress(
      `groth16 setup against ${basename(ptauPath)} (2^${info.power}${dev ? ', INSECURE dev ptau' : ''})`,
    );
    const secrets = dev ? await readDevSecrets(ptauPath, ptauSha) : undefined;
    if (secrets) {
      onProgress("computing the initial zkey from the dev ptau's secrets");
      await writeInitialZkey(r1cs, ptauPath, secrets, initial, onProgress);
    } else {
      await snarkjs.zKey.newZKey(r1cs, ptauPath, initial);
    }
    onProgress('contributing random entropy');
    contributionHash = await snarkjs.zKey.contribute(
      initial,
      a.paths.zkey,
      'zkinfer setup',
      randomBytes(32).toString('hex'),
    );
  } finally {
    await rm(initial, { force: true });
  }
  onProgress('exporting the verification key');
  const vkey = await snarkjs.zKey.exportVerificationKey(a.paths.zkey);
  const vkeyText = `${JSON.stringify(vkey, null, 1)}\n`;
  await writeFile(a.paths.vkey, vkeyText);
  const setup: SetupRecord = {
    modelId: modelIdOf(vkey),
    ptau: { file: basename(ptauPath), sha256: ptauSha, power: info.power, dev },
    zkeySha256: await sha256File(a.paths.zkey),
    vkeySha256: sha256Hex(vkeyText),
    contributions: [{ name: 'zkinfer setup', hash: Buffer.from(contributionHash).toString('hex') }],
    insecure: dev,
    createdAt: new Date().toISOString(),
  };
  const manifest: Manifest = { ...a.manifest, setup };
  await writeManifest(dir, manifest);
  return { manifest, setup };
}
