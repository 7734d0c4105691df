import { readFile } from 'node:fs/promises';
import * as snarkjs from 'snarkjs';
import { openArtifacts, requireFile } from '../artifacts.ts';
import { sha256File } from '../hashing.ts';
import { modelIdOf } from './setup.ts';

export interface AuditCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Checks an artifact directory's keys: the zkey derives from the r1cs and the ptau (snarkjs zkey
 * verify), and every hash in the manifest matches the files. Returns each check; never throws for a
 * mismatch, only for missing files.
 */
export async function auditSetup(dir: string, ptauPath: string): Promise<AuditCheck[]> {
  const a = await openArtifacts(dir);
  const setup = a.manifest.setup;
  const checks: AuditCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  requireFile(a.paths.zkey, 'proving key', 'run zkinfer setup first');
  requireFile(a.paths.vkey, 'verification key', 'run zkinfer setup first');
  if (!setup) {
    check('manifest records a setup', false, 'manifest.json has no setup section');
    return checks;
  }
  const r1csSha = await sha256File(a.paths.r1cs);
  check('r1cs matches manifest', r1csSha === a.manifest.circuit.r1csSha256, r1csSha);
  const ptauSha = await sha256File(ptauPath);
  check(
    'ptau matches manifest',
    ptauSha === setup.ptau.sha256,
    `${ptauSha}${setup.ptau.dev ? ' (INSECURE dev ptau)' : ''}`,
  );
  const zkeySha = await sha256File(a.paths.zkey);
  check('zkey matches manifest', zkeySha === setup.zkeySha256, zkeySha);
  const vkeyText = await readFile(a.paths.vkey, 'utf8');
  let vkey: unknown;
  try {
    vkey = JSON.parse(vkeyText);
  } catch {
    vkey = undefined;
  }
  const modelId = vkey === undefined ? 'unreadable' : modelIdOf(vkey);
  check('modelId = sha256(canonical vkey)', modelId === setup.modelId, modelId);
  const exported = await snarkjs.zKey.exportVerificationKey(a.paths.zkey);
  check("vkey is the zkey's", modelIdOf(exported) === modelId, 'exported from circuit.zkey and compared');
  const valid = await snarkjs.zKey.verifyFromR1cs(a.paths.r1cs, ptauPath, a.paths.zkey).catch(() => false);
  check(
    'zkey derives from r1cs + ptau (snarkjs zkey verify)',
    valid,
    valid ? 'all contributions verified' : 'verification failed',
  );
  return checks;
}
