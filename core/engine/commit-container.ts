import { failpoint } from '../failpoints.js';
import { decideCommit } from '../state/decide.js';
import type { CommitRequest, ProgressReporter } from './engine.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { ConflictError } from './errors.js';
import { Journal } from './journal.js';

/**
 * The commit's process manager: the intent (ContainerCommitting, saying whether it freezes the
 * container) is durable first; then the freeze, the image service's commit (ImageCreated on the
 * image's stream), the thaw, and ContainerCommitted, or ContainerCommitFailed with the reason. A
 * daemon that died midway thaws the container and ends the commit from the log (the reconciler).
 */
export async function commitContainer(ctx: EngineContext, ref: string, request: CommitRequest, progress?: ProgressReporter): Promise<string> {
  const c = ctx.container(ref);
  const limiter = ctx.limiter();
  const pause = request.pause !== false && c.status === 'running' && limiter !== undefined;
  await ctx.append(c, decideCommit(c, pause));
  failpoint('commit.after-intent');
  const journal = new Journal(ctx.store, c.id);
  try {
    if (pause) await limiter.freeze(c.id);
    failpoint('commit.after-pause');
    let imageId: string;
    try {
      imageId = await ctx.images.commit(c, ctx.storage(), request, progress);
    } finally {
      if (pause) await limiter.thaw(c.id);
    }
    failpoint('commit.after-image');
    await journal.commit([{ type: 'ContainerCommitted', data: { id: c.id, imageId, ref: request.repo ? `${request.repo}:${request.tag || 'latest'}` : null } }]);
    return imageId;
  } catch (err) {
    await journal.commitFinal([{ type: 'ContainerCommitFailed', data: { id: c.id, message: messageOf(err) } }]).catch(() => undefined);
    throw err;
  }
}

export async function exportContainer(ctx: EngineContext, ref: string, out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
  const c = ctx.container(ref);
  const image = ctx.state().images[c.image.id];
  if (!image) throw new ConflictError(`image of container ${c.name} was removed`);
  await ctx.images.exportContainer(c, image, ctx.storage(), out, progress);
}
