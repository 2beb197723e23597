import { arg, defineCommand, flag } from '../../lib/command-declaration.js';
import { CliError } from '../../lib/errors.js';

/** `KEY=VALUE` flags (--label, --opt) as a map; a KEY alone is an empty value, as docker. */
function keyValues(values: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw new CliError(`invalid ${what} ${JSON.stringify(v)}: expected KEY=VALUE`);
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** `mini-docker network create`: make a network. */
export default defineCommand({
  summary: 'Create a network.',

  description: `Makes a bridge network: a bridge device on the host with the gateway address, its own rules (containers on it reach each other and the outside; other networks cannot reach it), and an embedded DNS resolver through which its containers find each other by name. Prints the new network's id.

Without --subnet the first free /16 of 172.17-31.0.0 (then a /20 of 192.168.0.0/16) that overlaps no network and no route of the host is taken; the gateway is the subnet's first address unless --gateway names another. --internal networks have no route out. -o com.docker.network.driver.mtu=N sets the MTU.

Exit codes: 0, or 1 (a name already taken, an overlapping subnet, a daemon error).`,

  examples: [
    '<%= config.bin %> network create app',
    '<%= config.bin %> network create --subnet 10.5.0.0/24 --gateway 10.5.0.254 backend',
    '<%= config.bin %> network create --internal --label team=data db-net',
    '<%= config.bin %> network create -d bridge -o com.docker.network.driver.mtu=1400 small',
  ],

  flags: {
    driver: flag.string({ char: 'd', summary: 'Driver to manage the network.', default: 'bridge' }),
    subnet: flag.string({ summary: 'Subnet in CIDR format, e.g. 10.5.0.0/24.' }),
    gateway: flag.string({ summary: 'IPv4 gateway of the subnet (needs --subnet).' }),
    internal: flag.boolean({ summary: 'Restrict external access to the network.' }),
    label: flag.string({ summary: 'Set metadata on a network (KEY=VALUE); repeatable.', multiple: true }),
    opt: flag.string({ char: 'o', summary: 'Set driver specific options (com.docker.network.driver.mtu=N); repeatable.', multiple: true }),
    attachable: flag.boolean({ summary: 'Accepted for compatibility: every network here is attachable.' }),
    ipv6: flag.boolean({ summary: 'Enable IPv6 (not supported: refused by the daemon).' }),
  },

  args: {
    name: arg({ required: true, description: 'Name of the network.' }),
  },

  usage: 'NETWORK',

  async run(ctx, { flags, args }) {
    const body = {
      Name: args.name,
      Driver: flags.driver,
      Internal: flags.internal,
      Attachable: flags.attachable,
      EnableIPv6: flags.ipv6,
      CheckDuplicate: true,
      Labels: keyValues(flags.label, 'label'),
      Options: keyValues(flags.opt, 'option'),
      IPAM: { Driver: 'default', Config: flags.subnet !== undefined || flags.gateway !== undefined ? [{ Subnet: flags.subnet ?? '', Gateway: flags.gateway ?? '' }] : [] },
    };
    const created = await ctx.client.json<{ Id: string; Warning?: string }>('POST', '/networks/create', { json: body });
    if (created.Warning) ctx.warn(created.Warning);
    ctx.out(created.Id);
  },
});
