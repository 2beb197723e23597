import { arg, defineCommand, flag } from '../../lib/command-declaration.js';
import { CliError } from '../../lib/errors.js';
import { isIpv4 } from '../../../core/network/ipv4.js';

/** `mini-docker network connect`: a container joins a network. */
export default defineCommand({
  summary: 'Connect a container to a network.',

  description: 'The container is connected to NETWORK until it is disconnected or removed, and holds an address there while it runs (--ip, reserved for it while it is stopped; else its last one when free, else the next free one); a running container gets its interface (eth1, eth2…) at once, a stopped one when it starts. On a user network it answers to its name, its short id and every --alias.\n\nExit codes: 0, or 1 (no such network or container, already connected, address in use).',

  examples: ['<%= config.bin %> network connect app web', '<%= config.bin %> network connect --alias db --ip 172.20.0.50 app postgres'],

  errorExitCode: 1,

  flags: {
    alias: flag.string({ summary: 'Another name the container answers to on this network; repeatable.', multiple: true }),
    ip: flag.string({ summary: 'The IPv4 address on this network (e.g. 172.30.100.104).' }),
  },

  args: {
    network: arg({ required: true, description: 'Network name or id.' }),
    container: arg({ required: true, description: 'Container name or id.' }),
  },

  async run(ctx, { flags, args }) {
    if (flags.ip !== undefined && !isIpv4(flags.ip)) throw new CliError(`invalid argument "${flags.ip}" for "--ip" flag: invalid string being converted to IP address: ${flags.ip}`, 1);
    await ctx.client.call('POST', `/networks/${encodeURIComponent(args.network)}/connect`, {
      json: {
        Container: args.container,
        EndpointConfig: { Aliases: flags.alias, ...(flags.ip !== undefined ? { IPAMConfig: { IPv4Address: flags.ip } } : {}) },
      },
    });
  },
});
