import { ZkinferError } from '../../protocol/errors.ts';

/** Exit codes shared by every verb: 0 ok/valid, 1 usage or I/O error, 2 invalid proof or audit failure. */
export const EXIT = Object.freeze({ ok: 0, error: 1, invalid: 2 });

export interface Io {
  out(line: string): void;
  err(line: string): void;
  readonly isTTY: boolean;
}

/** The spinner in progress, if any: finished (✓ line) before anything else is written. */
let finishSpinner: (() => void) | undefined;

export const processIo: Io = {
  out: (line) => {
    finishSpinner?.();
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    finishSpinner?.();
    process.stderr.write(`${line}\n`);
  },
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

/**
 * Progress for long steps: on a TTY a spinner with the elapsed time that turns into a ✓ line when
 * the next step starts; otherwise plain timestamped lines (logs, CI).
 */
export function progressPrinter(io: Io, enabled: boolean): (message: string) => void {
  const started = performance.now();
  const stamp = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  if (!enabled) return () => {};
  if (!io.isTTY) return (message) => io.err(`[${stamp()}] ${message}`);
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let current: { message: string; since: number } | undefined;
  let frame = 0;
  const draw = () => {
    if (!current) return;
    const secs = ((performance.now() - current.since) / 1000).toFixed(1);
    process.stderr.write(`\r\x1b[2K${frames[frame++ % frames.length]} ${current.message} (${secs}s)`);
  };
  const finish = () => {
    if (!current) return;
    const secs = ((performance.now() - current.since) / 1000).toFixed(1);
    process.stderr.write(`\r\x1b[2K✓ ${current.message} (${secs}s)\n`);
    current = undefined;
  };
  const timer = setInterval(draw, 100);
  timer.unref(); // a spinner never keeps the process alive
  process.once('exit', finish);
  finishSpinner = finish;
  return (message) => {
    finish();
    current = { message, since: performance.now() };
    draw();
  };
}
