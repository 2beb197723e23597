import { arg, defineCommand } from '../lib/command-declaration.js';
import { containerPath } from '../lib/container-ops.js';
import { CliError } from '../lib/errors.js';

type PortMap = Readonly<Record<string, readonly { readonly HostIp: string; readonly HostPort: string }[] | null>>;

/** "80/tcp" → [80, "tcp"] for sorting by port, then protocol. */
function portKey(key: string): [number, string] {
  const [port, proto = 'tcp'] = key.split('/');
  return [Number(port), proto];
}

/** `mini-docker port`: the host side of a container's published ports, from inspect's NetworkSettings.Ports. */
export default defineCommand({
  summary: 'List port mappings or a specific mapping for the container.',

  description: 'Without PRIVATE_PORT: one line per published port, "80/tcp -> 0.0.0.0:8080". With PRIVATE_PORT[/PROTO] (tcp when left out): the host addresses it is published on, "0.0.0.0:8080".\n\nExit codes: 0, or 1 (no such container, the port is not published).',

  examples: ['<%= config.bin %> port web', '<%= config.bin %> port web 80', '<%= config.bin %> port web 53/udp'],

  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',

  args: {
    container: arg({ required: true, description: 'Container name or id.' }),
    port: arg({ description: 'A private port, PORT[/tcp|udp].' }),
  },

  async run(ctx, { args }) {
    const inspect = await ctx.client.json<{ Name: string; NetworkSettings?: { Ports?: PortMap } }>('GET', containerPath(args.container, '/json'));
    const ports = inspect.NetworkSettings?.Ports ?? {};
    if (args.port !== undefined) {
      const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(args.port);
      if (!m) throw new CliError(`invalid port ${JSON.stringify(args.port)}: expected PORT[/PROTO]`, 1);
      const key = `${m[1]}/${m[2] ?? 'tcp'}`;
      const bindings = ports[key];
      if (!bindings || bindings.length === 0) throw new CliError(`No public port '${key}' published for ${inspect.Name.replace(/^\//, '')}`, 1);
      for (const b of bindings) ctx.out(`${b.HostIp}:${b.HostPort}`);
      return;
    }
    const keys = Object.keys(ports).sort((a, b) => {
      const [pa, qa] = portKey(a);
      const [pb, qb] = portKey(b);
      return pa - pb || qa.localeCompare(qb);
    });
    for (const key of keys) for (const b of ports[key] ?? []) ctx.out(`${key} -> ${b.HostIp}:${b.HostPort}`);
  },
});
