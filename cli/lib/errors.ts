/**
 * Errors the CLI raises on purpose. Each carries the process exit code, so the base command prints
 * one line and exits with it; nothing else in the CLI decides exit codes.
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The daemon answered with an error status; `message` is its `{"message"}` body. The CLI prints
 * it as the docker client does, `Error response from daemon: <message>` (`errorLine`), and exits
 * with `exitCode`, or with the command's own failure code when it has none.
 */
export class DaemonError extends Error {
  constructor(message: string, readonly status: number, readonly exitCode?: number) {
    super(message);
    this.name = 'DaemonError';
  }

  /** The same answer, ending the command with `exitCode` (run's 125, 126 or 127). */
  exitingWith(exitCode: number): DaemonError {
    return new DaemonError(this.message, this.status, exitCode);
  }
}

/** A message on one line: its lines joined with single spaces. */
export function oneLine(message: string): string {
  return message.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ').replace(/\s+/g, ' ');
}

/**
 * The line the CLI prints for a failure, as the docker client prints it: the daemon's answers as
 * `Error response from daemon: <message>`, the CLI's own failures as `Error: <message>`.
 */
export function errorLine(err: unknown): string {
  const message = oneLine(err instanceof Error ? err.message || String(err) : String(err));
  return err instanceof DaemonError ? `Error response from daemon: ${message}` : `Error: ${message}`;
}

/** Docker's rule for `run`/`start` failures: the message decides between 126, 127 and 125. */
export function startFailureExitCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied|is a directory/i.test(message)) return 126;
  return 125;
}

/** True for a 404 from the daemon (missing container, image, exec). */
export function isNotFound(err: unknown): err is DaemonError {
  return err instanceof DaemonError && err.status === 404;
}
