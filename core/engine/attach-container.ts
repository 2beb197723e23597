import { Observable, filter, firstValueFrom } from 'rxjs';
import { containerStream } from '../../events/index.js';
import { LogReadNotSupportedError } from '../plugins/driver.js';
import type { OutputChunk, StreamSession, WaitCondition } from './engine.js';
import type { EngineContext } from './engine-context.js';
import { ConflictError } from './errors.js';

/*
 * wait, attach (output, stdin, its end) and resize: connections to a container's process. They
 * change nothing on the host and record nothing; they listen to the log's bus and to the hub.
 */

export function waitContainer(ctx: EngineContext, ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ exitCode: number; error?: string }> {
  const c = ctx.container(ref);
  const id = c.id;
  if (condition === 'not-running' && c.status !== 'running' && c.status !== 'paused') return Promise.resolve({ exitCode: c.exitCode });
  let lastExit = c.exitCode;
  return new Promise((resolve, reject) => {
    const sub = ctx.store.events.pipe(filter((e) => e.streamId === containerStream(id))).subscribe((e) => {
      if (e.type === 'ContainerExited' || e.type === 'ContainerStartFailed') {
        lastExit = e.data.exitCode;
        if (condition !== 'removed') done({ exitCode: lastExit });
      } else if (e.type === 'ContainerRemoved') {
        done({ exitCode: lastExit });
      }
    });
    const onAbort = (): void => {
      sub.unsubscribe();
      reject(new Error('wait cancelled'));
    };
    const done = (r: { exitCode: number }): void => {
      sub.unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function attachContainer(ctx: EngineContext, ref: string, options: { stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean }): Promise<StreamSession> {
  const c = ctx.container(ref);
  const id = c.id;
  let listener: ((chunk: OutputChunk | null) => void) | undefined;
  let resolveExit!: (n: number) => void;
  const exitCode = new Promise<number>((r) => { resolveExit = r; });
  const past: OutputChunk[] = [];
  if (options.logs) {
    try {
      for await (const e of ctx.logDriver(c.hostConfig.LogConfig.Type).read(id, {})) past.push({ stream: e.stream, data: e.data });
    } catch (err) {
      const refused = err instanceof LogReadNotSupportedError || (err instanceof Error && /does not support reading/i.test(err.message));
      if (!refused) throw err; // nothing kept to replay: only live output
    }
  }
  const output = new Observable<OutputChunk>((subscriber) => {
    for (const p of past) subscriber.next(p);
    listener = (chunk) => {
      if (chunk === null) {
        subscriber.complete();
        return;
      }
      if ((chunk.stream === 'stdout' && options.stdout) || (chunk.stream === 'stderr' && options.stderr)) subscriber.next(chunk);
    };
    let set = ctx.outputs.get(id);
    if (!set) {
      set = new Set();
      ctx.outputs.set(id, set);
    }
    set.add(listener);
    // An attach to a container that is not running waits for its next run, as Docker's does:
    // `start -a` attaches first, then starts (the CLIs refuse a plain attach to a stopped
    // container themselves). The run's end, a failed start or a removal ends it.
    return () => {
      ctx.outputs.get(id)?.delete(listener!);
    };
  });
  const session: StreamSession = {
    tty: c.config.Tty,
    output,
    exitCode,
    write: (data) => {
      if (!options.stdin) return;
      const hub = ctx.hubs.get(id);
      if (hub) hub.write(data);
      else ctx.pendingStdin.set(id, [...(ctx.pendingStdin.get(id) ?? []), data]);
    },
    closeStdin: () => {
      // As Docker: a client that goes away (a detach, Ctrl-P Ctrl-Q) closes the stdin of a StdinOnce container, but never a tty's.
      if (!options.stdin || !c.config.StdinOnce || c.config.Tty) return;
      const hub = ctx.hubs.get(id);
      if (hub) hub.closeStdin();
      else ctx.pendingStdinClose.add(id);
    },
    close: () => {
      if (listener) ctx.outputs.get(id)?.delete(listener);
    },
  };
  void untilNextExit(ctx, id).then(resolveExit);
  return session;
}

function untilNextExit(ctx: EngineContext, id: string): Promise<number> {
  return firstValueFrom(ctx.store.events.pipe(filter((e) => e.streamId === containerStream(id) && (e.type === 'ContainerExited' || e.type === 'ContainerStartFailed' || e.type === 'ContainerRemoved'))))
    .then((e) => (e.type === 'ContainerExited' || e.type === 'ContainerStartFailed' ? e.data.exitCode : ctx.state().containers[id]?.exitCode ?? 0))
    .catch(() => 0);
}

export async function resizeContainer(ctx: EngineContext, ref: string, rows: number, cols: number): Promise<void> {
  const c = ctx.container(ref);
  const hub = ctx.hubs.get(c.id);
  if (!hub) throw new ConflictError(`container ${c.id} is not running`);
  hub.resize(rows, cols);
}

