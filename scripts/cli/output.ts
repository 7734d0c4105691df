import { ZkinferError } from '../../protocol/errors.ts';

/** Exit codes shared by every verb: 0 ok/valid, 1 usage or I/O error, 2 invalid proof or audit failure. */
export const EXIT = Object.freeze({ ok: 0, error: 1, invalid: 2 });

export interface Io {
  out(line: string): void;
  err(line: string): void;
  readonly isTTY: boolean;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: !!process.stderr.isTTY,
};

/** One clear line for people (stack only with --verbose), or a JSON object for machines. */
export function reportError(io: Io, error: unknown, opts: { json?: boolean; verbose?: boolean }): number {
  const code = error instanceof ZkinferError ? error.code : 'INTERNAL';
  const message =
    error instanceof ZkinferError
      ? error.shortMessage
      : error instanceof Error
        ? error.message
        : String(error);
  if (opts.json) io.out(JSON.stringify({ ok: false, error: { code, message } }));
  else io.err(`zkinfer: error[${code}]: ${message}`);
  if (opts.verbose) {
    if (error instanceof ZkinferError && error.details) io.err(error.details);
    if (error instanceof Error && error.stack) io.err(error.stack);
  }
  return EXIT.error;
}

/** Progress: plain timestamped lines (a long step says it started and when it ended). */
export function progressPrinter(io: Io, enabled: boolean): (message: string) => void {
  const started = performance.now();
  return (message) => {
    if (enabled) io.err(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);
  };
}
