/**
 * The gateway's errors: a stable code, the HTTP status it maps to, and one line for people. Every
 * error response is `{ "error": { "code", "message" } }`.
 */
export const GATEWAY_ERRORS = Object.freeze({
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  UNKNOWN_MODEL: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 429,
  INTERNAL: 500,
  SETTLEMENT_UNAVAILABLE: 501,
  SETTLEMENT_FAILED: 502,
  NO_MINER: 503,
  OVERLOADED: 503,
  NO_VERIFIED_ANSWER: 504,
});

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

export class GatewayError extends Error {
  override name = 'GatewayError';
  readonly status: number;
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    /** Seconds a client should wait before retrying (429). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.status = GATEWAY_ERRORS[code];
  }

  toJSON(): { error: { code: GatewayErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
