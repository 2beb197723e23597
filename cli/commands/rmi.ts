import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { forEachRef, imagePath } from '../lib/container-ops.js';

/** `mini-docker rmi`: remove images. */
export default class Rmi extends BaseCommand {
  static override summary = 'Remove one or more images.';

  static override description = 'Untags each image and deletes it when no tag is left (and no container uses it, unless -f). Prints "Untagged: …" and "Deleted: …" lines like docker.\n\nExit codes: 0, or 1 when any image could not be removed.';

  static override examples = ['<%= config.bin %> rmi snap:v1', '<%= config.bin %> rmi -f 2b8c1a2d3e4f'];

  static override strict = false;

  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Force removal of the image.' }),
    'no-prune': Flags.boolean({ summary: 'Do not delete untagged parents.' }),
  };

  static override args = {
    image: Args.string({ ignoreStdin: true, required: true, description: 'Image names or ids.' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Rmi);
    const code = await forEachRef(argv.map(String), async (ref) => {
      const items = await this.client.json<readonly { Untagged?: string; Deleted?: string }[]>('DELETE', imagePath(ref), {
        query: { force: flags.force || undefined, noprune: flags['no-prune'] || undefined },
      });
      const lines = (items ?? []).map((i) => (i.Untagged !== undefined ? `Untagged: ${i.Untagged}` : `Deleted: ${i.Deleted ?? ''}`));
      return lines.length > 0 ? lines.join('\n') : undefined;
    }, { out: (l) => this.out(l), err: (l) => this.err(l) });
    if (code !== 0) this.exit(code);
  }
}
