import { ZkinferError } from '../../protocol/errors.ts';

export type FleetErrorCode =
  /** The fleet's Redis cannot be reached. */
  | 'FLEET_UNAVAILABLE'
  /** A node holds a model under a name the fleet knows with another modelId (a different zkey). */
  | 'MODEL_MISMATCH';

/** A prover node could not join its fleet; `fleetCode` says why. */
export class FleetError extends ZkinferError {
  override name = 'FleetError';
  readonly fleetCode: FleetErrorCode;
  constructor(code: FleetErrorCode, message: string, options: { cause?: unknown; details?: string } = {}) {
    super(code === 'MODEL_MISMATCH' ? 'ARTIFACT_INVALID' : 'IO', message, options);
    this.fleetCode = code;
  }
}
