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

/** The daemon answered with an error status; `message` is its `{"message"}` body. */
export class DaemonError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'DaemonError';
  }
}

/** Docker's rule for `run`/`start` failures: the message decides between 126, 127 and 125. */
export function startFailureExitCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied|is a directory/i.test(message)) return 126;
  return 125;
}

/** True for a 404 from the daemon (missing container, image, exec). */
export function isNotFound(err: unknown): boolean {
  return err instanceof DaemonError && err.status === 404;
}
