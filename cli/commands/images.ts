import type { ImageSummary } from '../lib/api-types.js';
import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { filtersJson } from '../lib/events-view.js';
import { renderImages } from '../lib/images-view.js';

/** `mini-docker images`: list images. */
export default defineCommand({
  summary: 'List images.',

  description: `Shows REPOSITORY, TAG, IMAGE ID (12 hex), CREATED and SIZE, one row per tag (untagged images show <none>).

--format takes "table", "json" (one object per line), "table <template>" or a template with the fields Repository, Tag, Digest, ID, CreatedSince, CreatedAt, Size. --json prints the daemon's raw list.`,

  examples: ['<%= config.bin %> images', '<%= config.bin %> images -q', "<%= config.bin %> images --format '{{.Repository}}:{{.Tag}}'", '<%= config.bin %> images busybox'],

  json: true,

  flags: {
    all: flag.boolean({ char: 'a', summary: 'Show all images (default hides intermediate images).' }),
    quiet: flag.boolean({ char: 'q', summary: 'Only show image IDs.' }),
    digests: flag.boolean({ summary: 'Show digests (of images pulled from or pushed to a registry).' }),
    'no-trunc': flag.boolean({ summary: "Don't truncate output." }),
    format: flag.string({ summary: 'Format: table, json, or a Go-like template.' }),
    filter: flag.string({ char: 'f', summary: 'Filter output (dangling=, reference=, label=); repeatable.', multiple: true }),
  },

  args: {
    repository: arg({ description: 'Only images of this repository (REPOSITORY[:TAG]).' }),
  },

  async run(ctx, { flags, args }) {
    const filters = filtersJson([...(flags.filter ?? []), ...(args.repository ? [`reference=${args.repository}`] : [])]);
    const images = await ctx.client.json<ImageSummary[]>('GET', '/images/json', { query: { all: flags.all || undefined, filters } });
    if (!ctx.jsonEnabled) process.stdout.write(renderImages(images, { quiet: flags.quiet, digests: flags.digests, noTrunc: flags['no-trunc'], format: flags.format, now: Date.now() }));
    return images;
  },
});
