import { EMPTY, Observable } from 'rxjs';
import { failpoint } from '../failpoints.js';
import { ProcessStartError, type ExecProcess } from '../plugins/driver.js';
import { decideExecCreate, decideExecStart } from '../state/decide.js';
import type { ExecState } from '../state/engine-state.js';
import { execSecurity } from '../security/container-security.js';
import type { OutputChunk, StreamSession } from './engine.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { NotFoundError, StartFailedError } from './errors.js';
import { Journal } from './journal.js';
import { mergeEnv } from './limits.js';
import { newId } from './names.js';
import { ProcessHub } from './process-hub.js';

export interface ExecRequest {
  readonly cmd: readonly string[];
  readonly env?: readonly string[];
  readonly workingDir?: string;
  readonly user?: string;
  readonly tty: boolean;
  readonly attachStdin: boolean;
  readonly attachStdout: boolean;
  readonly attachStderr: boolean;
}

export function execState(ctx: EngineContext, execId: string): ExecState {
  const x = ctx.state().execs[execId];
  if (!x) throw new NotFoundError(`No such exec instance: ${execId}`);
  return x;
}

/** Execs share their stream with each other's steps: see EngineContext.appendDecided. */
export async function createExec(ctx: EngineContext, ref: string, request: ExecRequest): Promise<string> {
  const execId = newId();
  await ctx.appendDecided(ctx.container(ref).id, (c) => decideExecCreate(c, {
    id: c.id, execId, cmd: [...request.cmd], env: [...(request.env ?? [])], workingDir: request.workingDir ?? '', user: request.user ?? '',
    tty: request.tty, attachStdin: request.attachStdin, attachStdout: request.attachStdout, attachStderr: request.attachStderr,
  }));
  return execId;
}

/**
 * The exec's process manager: the intent (ExecStarting) is durable before the isolator runs the
 * process; then ExecStarted, and ExecExited when it ends (or at once, with the reason, when it
 * could not start). A daemon that died meanwhile ends the exec from the log (the reconciler).
 */
export async function startExec(ctx: EngineContext, execId: string, options: { detach: boolean; tty?: boolean; consoleSize?: readonly [number, number] }): Promise<StreamSession> {
  const c = await ctx.appendDecided(execState(ctx, execId).containerId, (now) => decideExecStart(now, execState(ctx, execId)));
  const x = execState(ctx, execId);
  failpoint('exec.after-intent');
  const journal = new Journal(ctx.store, c.id);
  const tty = options.tty ?? x.tty;
  const limiter = ctx.limiter();
  let hub: ProcessHub;
  let process: ExecProcess;
  try {
    // The hub first, its sink handed to the isolator: output is heard from the first byte.
    ({ hub, process } = await ProcessHub.run((sink) => ctx.isolator().exec({
      containerId: c.id, execId, initPid: c.pid, args: x.cmd,
      env: mergeEnv([...c.config.Env, `HOSTNAME=${c.config.Hostname}`, ...(tty ? ['TERM=xterm'] : [])], x.env),
      cwd: x.workingDir || c.config.WorkingDir || '/', user: x.user || c.config.User, tty, stdin: x.attachStdin,
      cgroups: limiter ? limiter.paths(c.id) : [],
      ...(c.hostConfig.SecurityOpt ? { securityOpt: c.hostConfig.SecurityOpt } : {}),
      security: execSecurity(c.hostConfig),
      ...(options.consoleSize && options.consoleSize[0] > 0 ? { consoleSize: options.consoleSize } : {}),
    }, sink), undefined, () => undefined));
  } catch (err) {
    const exitCode = err instanceof ProcessStartError ? err.exitCode : 126;
    const message = messageOf(err);
    await journal.commitFinal([{ type: 'ExecExited', data: { id: c.id, execId, exitCode, reason: message } }]);
    if (options.detach) throw new StartFailedError(message, exitCode);
    const output = new Observable<OutputChunk>((s) => {
      s.next({ stream: 'stderr', data: Buffer.from(`OCI runtime exec failed: ${message}\n`) });
      s.complete();
    });
    return { tty, output, exitCode: Promise.resolve(exitCode), write: () => undefined, closeStdin: () => undefined, close: () => undefined };
  }
  failpoint('exec.after-start');
  ctx.execs.set(execId, { hub, process });
  await journal.commit([{ type: 'ExecStarted', data: { id: c.id, execId, pid: process.pid, ...(process.startTime !== undefined ? { startTime: process.startTime } : {}) } }]);
  // The exit is in the fold (ExecExited) before the output completes: a client that inspects the
  // exec once its stream ended (the docker client does, once) reads the final state and code.
  const exitCode = hub.whenExited().then(async (status) => {
    failpoint('exec.before-final');
    let unrecorded: unknown;
    // A container removed meanwhile took its execs with it: there is nothing left to record.
    if (ctx.state().containers[c.id]) {
      await journal.commitFinal([{ type: 'ExecExited', data: { id: c.id, execId, exitCode: status.exitCode } }]).catch((err: unknown) => { unrecorded = err; });
    }
    await hub.finish();
    ctx.execs.delete(execId);
    if (unrecorded !== undefined) {
      const message = `recording the exit (${status.exitCode}) of exec ${ctx.short(execId)} failed: ${messageOf(unrecorded)}`;
      ctx.logger.error(message);
      throw new Error(message);
    }
    return status.exitCode;
  });
  exitCode.catch(() => undefined); // logged above; an attached client gets it as the stream's error
  if (options.detach) hub.live.subscribe(); // nobody reads a detached exec's output
  const output = options.detach ? EMPTY : hub.live;
  return {
    tty, output, exitCode,
    write: (data) => hub.write(data),
    closeStdin: () => hub.closeStdin(),
    close: () => undefined,
  };
}

export async function resizeExec(ctx: EngineContext, execId: string, rows: number, cols: number): Promise<void> {
  execState(ctx, execId);
  ctx.execs.get(execId)?.hub.resize(rows, cols);
}
