import { arg, defineCommand } from '../lib/command-declaration.js';
import { imagePath } from '../lib/container-ops.js';
import { targetRepoTag } from '../lib/image-ref.js';

/** `mini-docker tag`: another name for an image. */
export default defineCommand({
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.',

  description: 'Names an image (by name, id or id prefix) with REPOSITORY[:TAG] (default tag latest). A tag names one image: moving it takes it off the image that had it.\n\nExit codes: 0, or 1 (no such image, invalid name).',

  examples: ['<%= config.bin %> tag busybox mybox:v1', '<%= config.bin %> tag 2b8c1a2d3e4f tools'],

  args: {
    source: arg({ required: true, description: 'SOURCE_IMAGE[:TAG] or id.' }),
    target: arg({ required: true, description: 'TARGET_IMAGE[:TAG].' }),
  },

  async run(ctx, { args }) {
    const { repo, tag } = targetRepoTag(args.target);
    await ctx.client.call('POST', imagePath(args.source, '/tag'), { query: { repo, tag: tag ?? 'latest' } });
  },
});
