import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { renderHistory, type HistoryItem } from '../lib/history-view.js';

/** `mini-docker history`: the layers of an image. */
export default class History extends BaseCommand {
  static override summary = 'Show the history of an image.';

  static override description = `Shows each layer of the image, newest first: IMAGE (12 hex, <missing> for a layer that is not an image of its own), CREATED, CREATED BY (cut to 45 characters unless --no-trunc), SIZE and COMMENT.
--format takes "table", "json" (one object per line), "table <template>" or a template with the fields ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment.

Exit codes: 0, or 1 (no such image).`;

  static override examples = ['<%= config.bin %> history busybox', '<%= config.bin %> history --no-trunc --format "{{.CreatedBy}}" myimage:v1'];

  static override enableJsonFlag = true;

  static override flags = {
    'no-trunc': Flags.boolean({ summary: 'Do not truncate the output.' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only show image IDs.' }),
    human: Flags.boolean({ char: 'H', summary: 'Print sizes and dates in human readable format.', default: true, allowNo: true }),
    format: Flags.string({ summary: 'Format: table, json, or a Go-like template.' }),
  };

  static override args = {
    image: Args.string({ ignoreStdin: true, required: true, description: 'Image name, id or id prefix.' }),
  };

  async run(): Promise<readonly HistoryItem[]> {
    const { flags, args } = await this.parse(History);
    const items = await this.client.json<HistoryItem[]>('GET', `/images/${encodeURIComponent(args.image)}/history`);
    if (!this.jsonEnabled()) {
      process.stdout.write(renderHistory(items, { noTrunc: flags['no-trunc'], quiet: flags.quiet, human: flags.human, format: flags.format, now: Date.now() }));
    }
    return items;
  }
}
