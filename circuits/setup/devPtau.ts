import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import * as snarkjs from 'snarkjs';
import { InvalidInputError } from '../../protocol/errors.ts';
import { sha256File } from '../hashing.ts';

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
  'INSECURE development Powers of Tau: one local contribution whose toxic waste was not destroyed verifiably. Never use for value.';

/**
 * Makes a development Powers of Tau: new accumulator, one contribution with random entropy,
 * prepare phase 2. Slow above 2^12 (prepare phase 2 dominates: ~3 min at 2^12 on 2 cores).
 */
export async function makeDevPtau(
  power: number,
  out: string,
  onProgress: (m: string) => void = () => {},
): Promise<DevPtauRecord> {
  if (!Number.isInteger(power) || power < 1 || power > 20) {
    throw new InvalidInputError(`--power must be an integer from 1 to 20, got ${power}`, 'INVALID_OPTION');
  }
  const stage0 = `${out}.0.tmp`;
  const stage1 = `${out}.1.tmp`;
  try {
    onProgress(`new accumulator 2^${power}`);
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    await snarkjs.powersOfTau.newAccumulator(curve, power, stage0);
    onProgress('contributing random entropy');
    await snarkjs.powersOfTau.contribute(
      stage0,
      stage1,
      'zkinfer INSECURE dev contribution',
      randomBytes(32).toString('hex'),
    );
    onProgress('preparing phase 2 (the slow step)');
    await snarkjs.powersOfTau.preparePhase2(stage1, out);
  } finally {
    await rm(stage0, { force: true });
    await rm(stage1, { force: true });
  }
  const record: DevPtauRecord = {
    kind: 'zkinfer-dev-ptau',
    insecure: true,
    power,
    sha256: await sha256File(out),
    warning: DEV_PTAU_WARNING,
    createdAt: new Date().toISOString(),
  };
  await writeFile(`${out}.json`, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}
