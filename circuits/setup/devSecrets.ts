import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { PtauSecrets } from './ptauWriter.ts';

/**
 * A dev ptau's secrets τ, α, β, kept beside it as `<ptau>.secrets.json` (mode 0600) so that
 * `zkinfer setup` can compute a circuit's initial zkey from scalars instead of snarkjs's generic
 * pass over the Lagrange points. Keeping them changes nothing about the file's security: a dev
 * ptau is INSECURE because its maker knew them. Delete the file to make setup use snarkjs.
 */
interface SecretsFile {
  readonly kind: 'zkinfer-dev-ptau-secrets';
  /** sha256 of the ptau the secrets made: a secrets file never applies to another ptau. */
  readonly ptauSha256: string;
  readonly tau: string;
  readonly alpha: string;
  readonly beta: string;
}

export const secretsPath = (ptauPath: string) => `${ptauPath}.secrets.json`;

export async function writeDevSecrets(ptauPath: string, ptauSha256: string, s: PtauSecrets): Promise<void> {
  const file: SecretsFile = {
    kind: 'zkinfer-dev-ptau-secrets',
    ptauSha256,
    tau: s.tau.toString(16),
    alpha: s.alpha.toString(16),
    beta: s.beta.toString(16),
  };
  await writeFile(secretsPath(ptauPath), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
}

/** The secrets of the ptau whose sha256 is `ptauSha256`, or undefined when none are kept for it. */
export async function readDevSecrets(ptauPath: string, ptauSha256: string): Promise<PtauSecrets | undefined> {
  const p = secretsPath(ptauPath);
  if (!existsSync(p)) return undefined;
  try {
    const f = JSON.parse(await readFile(p, 'utf8')) as Partial<SecretsFile>;
    if (f.kind !== 'zkinfer-dev-ptau-secrets' || f.ptauSha256 !== ptauSha256) return undefined;
    const hex = (v: unknown) =>
      typeof v === 'string' && /^[0-9a-f]{1,64}$/.test(v) ? BigInt(`0x${v}`) : undefined;
    const tau = hex(f.tau);
    const alpha = hex(f.alpha);
    const beta = hex(f.beta);
    return tau && alpha && beta ? { tau, alpha, beta } : undefined;
  } catch {
    return undefined;
  }
}
