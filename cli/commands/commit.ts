import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { targetRepoTag } from '../lib/image-ref.js';

/** `mini-docker commit`: a new image from a container's changes. */
export default defineCommand({
  summary: "Create a new image from a container's changes.",

  description: `Makes an image of the container's filesystem changes on top of its image (a new layer), with its config changed by -c Dockerfile lines (ENV, CMD, ENTRYPOINT, WORKDIR, USER, LABEL, EXPOSE). The container is paused meanwhile unless --no-pause. Prints the new image id.

Exit codes: 0, or 1 (no such container, bad change line).`,

  examples: [
    '<%= config.bin %> commit web snap:v1',
    "<%= config.bin %> commit -m 'added curl' -a 'me <me@example.com>' web tools",
    "<%= config.bin %> commit -c 'ENV DEBUG=1' -c 'CMD [\"sh\"]' web debug:latest",
  ],

  flags: {
    message: flag.string({ char: 'm', summary: 'Commit message.' }),
    author: flag.string({ char: 'a', summary: 'Author (e.g. "John Hannibal Smith <hannibal@a-team.com>").' }),
    change: flag.string({ char: 'c', summary: 'Apply a Dockerfile instruction to the image config; repeatable.', multiple: true }),
    pause: flag.boolean({ char: 'p', summary: 'Pause the container during commit.', default: true, allowNo: true }),
  },

  args: {
    container: arg({ required: true, description: 'Container name or id.' }),
    repository: arg({ description: 'REPOSITORY[:TAG] for the new image.' }),
  },

  async run(ctx, { flags, args }) {
    const ref = args.repository === undefined ? undefined : targetRepoTag(args.repository);
    const result = await ctx.client.json<{ Id: string }>('POST', '/commit', {
      query: {
        container: args.container,
        repo: ref?.repo ?? '',
        tag: ref ? ref.tag ?? 'latest' : '',
        comment: flags.message ?? '',
        author: flags.author ?? '',
        changes: flags.change,
        pause: flags.pause ? undefined : false,
      },
    });
    ctx.out(result.Id);
  },
});
