import { arg, defineCommand, flag } from '../../lib/command-declaration.js';
import { printInspected } from '../../lib/inspect-output.js';
import { isNotFound } from '../../lib/errors.js';
import { networkPath } from '../../lib/container-ops.js';

/** `mini-docker network inspect`: networks as JSON. */
export default defineCommand({
  summary: 'Display detailed information on one or more networks.',

  description: `Prints a JSON array of Docker's network objects: Name, Id, Created, Scope, Driver, EnableIPv6, IPAM (Driver, Config with Subnet and Gateway), Internal, Attachable, Containers (by id: Name, EndpointID, MacAddress, IPv4Address, IPv6Address), Options, Labels; host and none have driver host and null, no IPAM config (null), and list the running containers of that --network mode without an address. With -f, a Go-like template per network instead, e.g. '{{range .IPAM.Config}}{{.Subnet}}{{end}}'.

Exit codes: 0, or 1 when any network was not found (the others are still printed).`,

  examples: [
    '<%= config.bin %> network inspect bridge',
    "<%= config.bin %> network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}' app",
    "<%= config.bin %> network inspect -f '{{json .Containers}}' app backend",
  ],

  json: true,

  variadic: true,

  flags: {
    format: flag.string({ char: 'f', summary: 'Format the output using a Go-like template.' }),
    verbose: flag.boolean({ char: 'v', summary: 'Accepted for compatibility (swarm details): there are none.' }),
  },

  args: {
    network: arg({ required: true, description: 'Network names or ids.' }),
  },

  usage: 'NETWORK [NETWORK...]',

  async run(ctx, { flags, argv }) {
    const found: unknown[] = [];
    const missing: Error[] = [];
    for (const ref of argv.map(String)) {
      try {
        found.push(await ctx.client.json<unknown>('GET', networkPath(ref)));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        missing.push(err);
      }
    }
    return printInspected(ctx, found, missing, flags.format);
  },
});
