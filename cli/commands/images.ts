import { Args, Flags } from '@oclif/core';
import type { ImageSummary } from '../lib/api-types.js';
import { BaseCommand } from '../lib/base-command.js';
import { filtersJson } from '../lib/events-view.js';
import { CliError } from '../lib/errors.js';
import { renderImages } from '../lib/images-view.js';

/** `mini-docker images`: list images. */
export default class Images extends BaseCommand {
  static override summary = 'List images.';

  static override description = `Shows REPOSITORY, TAG, IMAGE ID (12 hex), CREATED and SIZE, one row per tag (untagged images show <none>).

--format takes "table", "json" (one object per line), "table <template>" or a template with the fields Repository, Tag, Digest, ID, CreatedSince, CreatedAt, Size. --json prints the daemon's raw list.`;

  static override examples = ['<%= config.bin %> images', '<%= config.bin %> images -q', "<%= config.bin %> images --format '{{.Repository}}:{{.Tag}}'", '<%= config.bin %> images busybox'];

  static override enableJsonFlag = true;

  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Show all images (default hides intermediate images).' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only show image IDs.' }),
    digests: Flags.boolean({ summary: 'Show digests (of images pulled from or pushed to a registry).' }),
    'no-trunc': Flags.boolean({ summary: "Don't truncate output." }),
    format: Flags.string({ summary: 'Format: table, json, or a Go-like template.' }),
    filter: Flags.string({ char: 'f', summary: 'Filter output (dangling=, reference=, label=); repeatable.', multiple: true, multipleNonGreedy: true }),
  };

  static override args = {
    repository: Args.string({ ignoreStdin: true, description: 'Only images of this repository (REPOSITORY[:TAG]).' }),
  };

  async run(): Promise<readonly ImageSummary[]> {
    const { flags, args } = await this.parse(Images);
    let filters: string | undefined;
    try {
      filters = filtersJson([...(flags.filter ?? []), ...(args.repository ? [`reference=${args.repository}`] : [])]);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const images = await this.client.json<ImageSummary[]>('GET', '/images/json', { query: { all: flags.all || undefined, filters } });
    if (!this.jsonEnabled()) process.stdout.write(renderImages(images, { quiet: flags.quiet, digests: flags.digests, noTrunc: flags['no-trunc'], format: flags.format, now: Date.now() }));
    return images;
  }
}
