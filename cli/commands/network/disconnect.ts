import { arg, defineCommand, flag } from '../../lib/command-declaration.js';

/** `mini-docker network disconnect`: a container leaves a network. */
export default defineCommand({
  summary: 'Disconnect a container from a network.',

  description: 'A running container loses its interface on NETWORK (and the ports published through it); its address goes back to the network\'s pool. -f also removes what is left of a container that no longer exists. A network removed while the container was stopped is let go of the same way (its start failed with "network ID not found" until then).\n\nExit codes: 0, or 1 (no such network or container, not connected).',

  examples: ['<%= config.bin %> network disconnect app web', '<%= config.bin %> network disconnect -f app 3f2a9c01'],

  errorExitCode: 1,

  flags: {
    force: flag.boolean({ char: 'f', summary: 'Force the container to disconnect from the network.', default: false }),
  },

  args: {
    network: arg({ required: true, description: 'Network name or id.' }),
    container: arg({ required: true, description: 'Container name or id.' }),
  },

  async run(ctx, { flags, args }) {
    await ctx.client.call('POST', `/networks/${encodeURIComponent(args.network)}/disconnect`, {
      json: { Container: args.container, Force: flags.force },
    });
  },
});
