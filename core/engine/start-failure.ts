import { ProcessStartError } from '../plugins/driver.js';
import type { StartFailure } from '../state/engine-state.js';

/**
 * The exit code a failed start leaves in the container's state (inspect's State.ExitCode), by
 * moby's rule (daemon/start.go's deferred SetExitCode and translateContainerdStartErr, 20.10).
 * The message rule applies only to the runtime's error, here the isolator's process start
 * (`processStartCode` not null, from its ProcessStartError): a message that names the command and
 * says it is not found ("executable file not found", "no such file or directory") is 127;
 * "permission denied" is 126; "not a directory" (a file mounted on a folder, a working dir that
 * is a file) is 127; the isolator's own 126/127 (the command is a folder, not executable, not
 * found) count as said. Any other failure of the isolator, and every failure on the daemon's side
 * (a volume driver's mount, the network, a bind source it makes, the connection to the shim),
 * leaves the container's exit code as it was, 128 when that was 0. Examples: `busybox nosuch`
 * never started: 127; a volume driver's "permission denied": 128; a network removed since the last
 * run of a container that exited 3: 3.
 */
export function startFailureExitCode(failure: StartFailure, command: string, previous: number): number {
  const kept = previous === 0 ? 128 : previous;
  if (failure.processStartCode === null) return kept;
  const text = failure.message.toLowerCase();
  let code: number | null = failure.processStartCode === 126 || failure.processStartCode === 127 ? failure.processStartCode : null;
  if (command !== '' && text.includes(command.toLowerCase()) && (text.includes('executable file not found') || text.includes('no such file or directory'))) code = 127;
  if (text.includes('permission denied')) code = 126;
  if (text.includes('not a directory')) code = 127;
  return code ?? kept;
}

/** What the rule needs of a start's failure: its message, and the isolator's code when the failure was its process start. */
export function startFailureOf(cause: unknown): StartFailure {
  return {
    message: cause instanceof Error ? cause.message : String(cause),
    processStartCode: cause instanceof ProcessStartError ? cause.exitCode : null,
  };
}

/** The command a start runs first (inspect's Path): the entrypoint's first word, else the command's. */
export function startCommand(config: { readonly Entrypoint: readonly string[] | null; readonly Cmd: readonly string[] | null }): string {
  return [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])][0] ?? '';
}
