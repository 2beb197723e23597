import { ProcessStartError } from '../plugins/driver.js';

/**
 * The exit code a failed start leaves in the container's state (inspect's State.ExitCode), by
 * moby's rule (daemon/start.go's deferred SetExitCode and translateContainerdStartErr, 20.10):
 * a message that names the command and says it is not found ("executable file not found", "no
 * such file or directory") is 127; "permission denied" is 126; "not a directory" (a file mounted
 * on a folder, a working dir that is a file) is 127; any other failure leaves the container's
 * exit code as it was, 128 when that was 0. The isolator's own 126/127 (ProcessStartError: the
 * command is a folder, not executable, not found) count as said. Example: `busybox nosuch` never
 * started: 127; a network removed since the last run of a container that exited 3: 3.
 */
export function startFailureExitCode(cause: unknown, message: string, command: string, previous: number): number {
  const text = message.toLowerCase();
  let code: number | null = cause instanceof ProcessStartError && (cause.exitCode === 126 || cause.exitCode === 127) ? cause.exitCode : null;
  if (command !== '' && text.includes(command.toLowerCase()) && (text.includes('executable file not found') || text.includes('no such file or directory'))) code = 127;
  if (text.includes('permission denied')) code = 126;
  if (text.includes('not a directory')) code = 127;
  return code ?? (previous === 0 ? 128 : previous);
}

/** The command a start runs first (inspect's Path): the entrypoint's first word, else the command's. */
export function startCommand(config: { readonly Entrypoint: readonly string[] | null; readonly Cmd: readonly string[] | null }): string {
  return [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])][0] ?? '';
}
