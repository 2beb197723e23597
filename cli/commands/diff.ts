import { Args } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
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
export default class Diff extends BaseCommand {
  static override summary = 'Inspect changes to files or directories on a container\'s filesystem.';

  static override description = 'Lists the paths the container added (A), changed (C) or deleted (D) against its image, sorted by path. Bind mounts are not part of it.\n\nExit codes: 0, or 1 (no such container).';

  static override examples = ['<%= config.bin %> diff web', '<%= config.bin %> diff web --json'];

  static override enableJsonFlag = true;

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container name or id.' }),
  };

  async run(): Promise<readonly ChangeItem[]> {
    const { args } = await this.parse(Diff);
    const changes = (await this.client.json<ChangeItem[] | null>('GET', containerPath(args.container, '/changes'))) ?? [];
    if (!this.jsonEnabled()) process.stdout.write(renderChanges(changes));
    return changes;
  }
}
