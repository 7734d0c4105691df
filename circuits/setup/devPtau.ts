import { writeFile } from 'node:fs/promises';
import { InvalidInputError } from '../../protocol/errors.ts';
import { sha256File } from '../hashing.ts';
import { writeDevSecrets } from './devSecrets.ts';
import { randomSecrets, writePreparedPtau } from './ptauWriter.ts';

/** Written beside a dev ptau as `<file>.json`: setup reads it to mark derived keys INSECURE. */
export interface DevPtauRecord {
  readonly kind: 'zkinfer-dev-ptau';
  readonly insecure: true;
  readonly power: number;
  readonly sha256: string;
  readonly warning: string;
  readonly createdAt: string;
}

export const DEV_PTAU_WARNING =
  'INSECURE development Powers of Tau: made from secrets this machine knew (and did not destroy verifiably), with no ceremony contribution recorded. Never use for value.';

/**
 * Makes a development Powers of Tau, prepared for phase 2, from fresh random τ, α, β computed
 * directly (ptauWriter.ts): the file snarkjs's ceremony steps would produce for those secrets,
 * in 33 s at 2^16 on 2 cores (scripts/bench/reports/ptau-dev.md) instead of half an hour. The
 * secrets stay beside it (devSecrets.ts) for setup's direct zkey.
 */
export async function makeDevPtau(
  power: number,
  out: string,
  onProgress: (m: string) => void = () => {},
): Promise<DevPtauRecord> {
  if (!Number.isInteger(power) || power < 1 || power > 20) {
    throw new InvalidInputError(`--power must be an integer from 1 to 20, got ${power}`, 'INVALID_OPTION');
  }
  onProgress(`computing a prepared 2^${power} ptau from random secrets`);
  const secrets = randomSecrets();
  await writePreparedPtau(power, out, secrets, (m) => onProgress(m));
  const sha256 = await sha256File(out);
  await writeDevSecrets(out, sha256, secrets);
  const record: DevPtauRecord = {
    kind: 'zkinfer-dev-ptau',
    insecure: true,
    power,
    sha256,
    warning: DEV_PTAU_WARNING,
    createdAt: new Date().toISOString(),
  };
  await writeFile(`${out}.json`, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}
