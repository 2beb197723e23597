import type { Limits } from '../../events/index.js';
import { DriverKinds } from '../plugins/kinds.js';
import { decidePause, decideRename, decideUnpause, decideUpdate } from '../state/decide.js';
import { findContainer } from '../state/lookup.js';
import { parseRestartPolicy } from '../state/restart-policy.js';
import type { EngineContext } from './engine-context.js';
import { ConflictError, InvalidArgumentError } from './errors.js';
import { pickLimits } from './limits.js';

/* rename, update (limits and restart policy), pause and unpause: the rule, the driver, the event. */

export async function renameContainer(ctx: EngineContext, ref: string, newName: string): Promise<void> {
  await ctx.appendDecided(ctx.container(ref).id, (c) => decideRename(ctx.state(), c, newName));
}

export async function updateContainer(ctx: EngineContext, ref: string, limits: Limits, restart?: { Name: string; MaximumRetryCount: number }): Promise<void> {
  const id = ctx.container(ref).id;
  const picked = pickLimits(limits);
  // --restart no (or "") sets the policy back to none: null in the event.
  const restartPolicy = restart === undefined ? undefined : parseRestartPolicy(restart.Name, restart.MaximumRetryCount) ?? null;
  await ctx.serial(id, async () => {
    const c = findContainer(ctx.state(), id);
    if (Object.keys(picked).length === 0) {
      await ctx.appendDecided(id, (now) => decideUpdate(now, picked, restartPolicy));
      return;
    }
    const limiter = ctx.limiter();
    if (!limiter) throw new InvalidArgumentError(`resource limits are not supported on this host: ${ctx.registry.whyMissing(DriverKinds.limiter)}`);
    // Docker's update rules: --cpus and a CFS quota/period are two ways to set the same files,
    // so one cannot be changed while the other is set (the merged limits would only say "cannot both be set").
    const has = (n: number | undefined): boolean => n !== undefined && n > 0;
    const conflict = has(picked.NanoCpus) && has(c.hostConfig.CpuPeriod) ? 'Nano CPUs cannot be updated as CPU Period has already been set'
      : has(picked.NanoCpus) && has(c.hostConfig.CpuQuota) ? 'Nano CPUs cannot be updated as CPU Quota has already been set'
        : has(picked.CpuPeriod) && has(c.hostConfig.NanoCpus) ? 'CPU Period cannot be updated as NanoCPUs has already been set'
          : has(picked.CpuQuota) && has(c.hostConfig.NanoCpus) ? 'CPU Quota cannot be updated as NanoCPUs has already been set' : undefined;
    if (conflict) throw new InvalidArgumentError(`Conflicting options: ${conflict}`);
    const merged = { ...pickLimits(c.hostConfig), ...picked };
    try {
      limiter.validate(merged);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
    if (c.status === 'running' || c.status === 'paused') {
      try {
        await limiter.update(id, merged);
      } catch (err) {
        throw new InvalidArgumentError(`cannot update container ${c.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await ctx.appendDecided(id, (now) => decideUpdate(now, picked, restartPolicy));
  });
}

export async function pauseContainer(ctx: EngineContext, ref: string): Promise<void> {
  const id = ctx.container(ref).id;
  await ctx.serial(id, async () => {
    const c = findContainer(ctx.state(), id);
    decidePause(c); // refuses before the freeze
    const limiter = ctx.limiter();
    if (!limiter) throw new ConflictError(`pause needs the freezer cgroup: ${ctx.registry.whyMissing(DriverKinds.limiter)}`);
    await limiter.freeze(id);
    await ctx.appendDecided(id, decidePause);
  });
}

export async function unpauseContainer(ctx: EngineContext, ref: string): Promise<void> {
  const id = ctx.container(ref).id;
  await ctx.serial(id, async () => {
    const c = findContainer(ctx.state(), id);
    decideUnpause(c); // refuses before the thaw
    await ctx.limiter()?.thaw(id);
    await ctx.appendDecided(id, decideUnpause);
  });
}
