import { arg, defineCommand } from '../lib/command-declaration.js';
import { containerPath } from '../lib/container-ops.js';

/** One change as the API reports it: Kind 0 modified, 1 added, 2 deleted. */
export interface ChangeItem {
  readonly Path: string;
  readonly Kind: number;
}

/** `C /etc`, `A /etc/new`, `D /gone`, as `docker diff` prints them. */
export function renderChanges(changes: readonly ChangeItem[]): string {
  return changes.map((c) => `${['C', 'A', 'D'][c.Kind] ?? '?'} ${c.Path}\n`).join('');
}

/** `mini-docker diff`: what a container changed in its filesystem. */
export default defineCommand({
  summary: 'Inspect changes to files or directories on a container\'s filesystem.',

  description: 'Lists the paths the container added (A), changed (C) or deleted (D) against its image, sorted by path. Bind mounts are not part of it.\n\nExit codes: 0, or 1 (no such container).',

  examples: ['<%= config.bin %> diff web', '<%= config.bin %> diff web --json'],

  json: true,

  args: {
    container: arg({ required: true, description: 'Container name or id.' }),
  },

  async run(ctx, { args }) {
    const changes = (await ctx.client.json<ChangeItem[] | null>('GET', containerPath(args.container, '/changes'))) ?? [];
    if (!ctx.jsonEnabled) process.stdout.write(renderChanges(changes));
    return changes;
  },
});
