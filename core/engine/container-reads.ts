import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { filter } from 'rxjs';
import { containerStream } from '../../events/index.js';
import { listsChanges, LogReadNotSupportedError, type FileChange, type LogEntry, type LogReadOptions, type ResourceStats } from '../plugins/driver.js';
import type { ContainerState } from '../state/engine-state.js';
import type { EngineContext } from './engine-context.js';
import { ConflictError, InvalidArgumentError, NotImplementedError } from './errors.js';
import { parsePsOutput } from './ps-output.js';

const run = promisify(execFile);

/* Reads of one container that ask its drivers: size, changes, top, logs, stats. They record nothing. */

export async function containerSize(ctx: EngineContext, ref: string): Promise<{ sizeRw: number; sizeRootFs: number }> {
  const c = ctx.container(ref);
  const { size: sizeRw } = await ctx.storage().usage(c.id);
  return { sizeRw, sizeRootFs: (ctx.state().images[c.image.id]?.size ?? 0) + sizeRw };
}

export async function containerChanges(ctx: EngineContext, ref: string): Promise<readonly FileChange[]> {
  const c = ctx.container(ref);
  const storage = ctx.storage();
  if (!listsChanges(storage)) throw new NotImplementedError(`the storage driver ${storage.id} cannot list a container's changes`);
  const image = ctx.state().images[c.image.id];
  if (!image) throw new ConflictError(`image ${c.image.id} of container ${c.name} was removed`);
  return storage.changes(c.id, image.layers.map((l) => l.diffId));
}

export async function topContainer(ctx: EngineContext, ref: string, psArgs?: string): Promise<{ titles: readonly string[]; processes: readonly (readonly string[])[] }> {
  const c = ctx.container(ref);
  if (c.status !== 'running' && c.status !== 'paused') throw new ConflictError(`container ${c.id} is not running`);
  const limiter = ctx.limiter();
  const pids = limiter ? await limiter.pids(c.id) : [c.pid];
  const list = pids.length > 0 ? pids : [c.pid];
  // Like moby: ps on the host with the client's options (`docker top web aux`, `-o pid,args`),
  // rows picked by the PID column. Without options, Docker's `ps -ef` columns for our pids only.
  const args = psArgs?.trim() ? psArgs.trim().split(/\s+/) : ['-o', 'user=UID,pid,ppid,c,stime,tty=TTY,time,args=CMD', '-p', list.join(',')];
  let stdout: string;
  try {
    ({ stdout } = await run('ps', args, { maxBuffer: 64 << 20 }));
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new InvalidArgumentError(`ps ${args.join(' ')}: ${stderr.trim().split('\n')[0] || (err instanceof Error ? err.message : String(err))}`);
  }
  try {
    return parsePsOutput(stdout, list);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Not a generator itself: an unknown container or a driver that cannot read (none) throws here,
 * before the API route sent its 200 headers (a generator's body would only run on the first next()).
 */
export function containerLogs(ctx: EngineContext, ref: string, options: LogReadOptions & { stdout: boolean; stderr: boolean }): AsyncIterable<LogEntry> {
  const c = ctx.container(ref);
  const driver = ctx.logDriver(c.hostConfig.LogConfig.Type);
  const running = c.status === 'running' || c.status === 'paused';
  const follow = options.follow === true && running;
  const abort = new AbortController();
  let entries: AsyncIterable<LogEntry>;
  try {
    entries = driver.read(c.id, { ...options, follow, signal: abort.signal });
  } catch (err) {
    // Docker's message and status (501: ErrReadLogsNotSupported is a NotImplemented error).
    // A third party's plain Error with Docker's words is the same refusal.
    if (err instanceof LogReadNotSupportedError || (err instanceof Error && /does not support reading/i.test(err.message))) throw new NotImplementedError(err.message);
    throw err;
  }
  return readLogs(ctx, c, entries, abort, follow, options);
}

async function* readLogs(
  ctx: EngineContext, c: ContainerState, entries: AsyncIterable<LogEntry>, abort: AbortController, follow: boolean,
  options: LogReadOptions & { stdout: boolean; stderr: boolean },
): AsyncIterable<LogEntry> {
  const outer = options.signal;
  const onOuter = (): void => abort.abort();
  outer?.addEventListener('abort', onOuter, { once: true });
  let sub: { unsubscribe(): void } | undefined;
  if (follow) {
    sub = ctx.store.events.pipe(filter((e) => e.streamId === containerStream(c.id) && (e.type === 'ContainerExited' || e.type === 'ContainerRemoved'))).subscribe(() => abort.abort());
    // It may have exited since logs() was called: then the follow passes on what is stored and ends.
    const now = ctx.state().containers[c.id];
    if (!now || (now.status !== 'running' && now.status !== 'paused')) abort.abort();
  }
  if (outer?.aborted) abort.abort();
  try {
    for await (const entry of entries) {
      if ((entry.stream === 'stdout' && options.stdout) || (entry.stream === 'stderr' && options.stderr)) yield entry;
    }
  } finally {
    sub?.unsubscribe();
    outer?.removeEventListener('abort', onOuter);
  }
}

export async function containerStats(ctx: EngineContext, ref: string): Promise<ResourceStats> {
  const c = ctx.container(ref);
  const limiter = ctx.requireLimiter('stats');
  if (c.status !== 'running' && c.status !== 'paused') throw new ConflictError(`container ${c.id} is not running`);
  return limiter.stats(c.id);
}
