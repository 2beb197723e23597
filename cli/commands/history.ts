import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { renderHistory, type HistoryItem } from '../lib/history-view.js';

/** `mini-docker history`: the layers of an image. */
export default defineCommand({
  summary: 'Show the history of an image.',

  description: `Shows each layer of the image, newest first: IMAGE (12 hex, <missing> for a layer that is not an image of its own), CREATED, CREATED BY (cut to 45 characters unless --no-trunc), SIZE and COMMENT.
--format takes "table", "json" (one object per line), "table <template>" or a template with the fields ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment.

Exit codes: 0, or 1 (no such image).`,

  examples: ['<%= config.bin %> history busybox', '<%= config.bin %> history --no-trunc --format "{{.CreatedBy}}" myimage:v1'],

  json: true,

  flags: {
    'no-trunc': flag.boolean({ summary: 'Do not truncate the output.' }),
    quiet: flag.boolean({ char: 'q', summary: 'Only show image IDs.' }),
    human: flag.boolean({ char: 'H', summary: 'Print sizes and dates in human readable format.', default: true, allowNo: true }),
    format: flag.string({ summary: 'Format: table, json, or a Go-like template.' }),
  },

  args: {
    image: arg({ required: true, description: 'Image name, id or id prefix.' }),
  },

  async run(ctx, { flags, args }) {
    const items = await ctx.client.json<HistoryItem[]>('GET', `/images/${encodeURIComponent(args.image)}/history`);
    if (!ctx.jsonEnabled) {
      process.stdout.write(renderHistory(items, { noTrunc: flags['no-trunc'], quiet: flags.quiet, human: flags.human, format: flags.format, now: Date.now() }));
    }
    return items;
  },
});
