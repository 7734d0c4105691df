/**
 * Typed errors with stable codes (after viem). Every failure a user can cause carries a `code`
 * that scripts may rely on, a one-line `shortMessage` for people, and optional `details`.
 */
export type ErrorCode =
  | 'ONNX_PARSE'
  | 'ONNX_INVALID'
  | 'UNSUPPORTED_OP'
  | 'UNSUPPORTED_ATTRIBUTE'
  | 'SHAPE_MISMATCH'
  | 'BOUND_TOO_LARGE'
  | 'INVALID_INPUT'
  | 'INVALID_OPTION'
  | 'ARTIFACT_NOT_FOUND'
  | 'ARTIFACT_INVALID'
  | 'CIRCOM_FAILED'
  | 'PTAU_TOO_SMALL'
  | 'PTAU_INVALID'
  | 'PROOF_MALFORMED'
  | 'CHAIN_ERROR'
  | 'IO';

export interface ZkinferErrorOptions {
  details?: string;
  cause?: unknown;
}

/** Base class: `code` is stable; `shortMessage` is the one line a CLI prints. */
export class ZkinferError extends Error {
  override name = 'ZkinferError';
  readonly code: ErrorCode;
  readonly shortMessage: string;
  readonly details: string | undefined;

  constructor(code: ErrorCode, shortMessage: string, options: ZkinferErrorOptions = {}) {
    super(options.details ? `${shortMessage}\n\nDetails: ${options.details}` : shortMessage, {
      cause: options.cause,
    });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
  }
}

/** The model file is not a readable ONNX protobuf (truncated, not ONNX, corrupt). */
export class OnnxParseError extends ZkinferError {
  override name = 'OnnxParseError';
  constructor(message: string, options: ZkinferErrorOptions = {}) {
    super('ONNX_PARSE', message, options);
  }
}

/** An operator (or an attribute value of one) that zkinfer cannot turn into a circuit. */
export class UnsupportedOpError extends ZkinferError {
  override name = 'UnsupportedOpError';
  readonly opType: string;
  readonly nodeName: string;
  constructor(opType: string, nodeName: string, hint: string) {
    super('UNSUPPORTED_OP', `unsupported op ${opType} at node "${nodeName}": ${hint}`);
    this.opType = opType;
    this.nodeName = nodeName;
  }
}

/** The model is ONNX but inconsistent (missing tensors, impossible shapes, bad attributes). */
export class ModelError extends ZkinferError {
  override name = 'ModelError';
  constructor(code: 'ONNX_INVALID' | 'UNSUPPORTED_ATTRIBUTE' | 'SHAPE_MISMATCH', message: string) {
    super(code, message);
  }
}

/** A value could approach the field size: compiling would make an unsound circuit. */
export class BoundTooLargeError extends ZkinferError {
  override name = 'BoundTooLargeError';
  constructor(message: string) {
    super('BOUND_TOO_LARGE', message);
  }
}

/** A user-supplied input (file, option) is malformed. */
export class InvalidInputError extends ZkinferError {
  override name = 'InvalidInputError';
  constructor(message: string, code: 'INVALID_INPUT' | 'INVALID_OPTION' = 'INVALID_INPUT') {
    super(code, message);
  }
}

/** Artifacts on disk are missing or do not match what they claim to be. */
export class ArtifactError extends ZkinferError {
  override name = 'ArtifactError';
  constructor(
    code: 'ARTIFACT_NOT_FOUND' | 'ARTIFACT_INVALID',
    message: string,
    options: ZkinferErrorOptions = {},
  ) {
    super(code, message, options);
  }
}
