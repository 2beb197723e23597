import { arg, flag } from './command-declaration.js';
import { limitFlags } from './limit-flags.js';

/** The flags `run` and `create` share (docker's names; `-c` is the original project's cpu.max). */
export const createFlags = {
  interactive: flag.boolean({ char: 'i', summary: 'Keep STDIN open and attach it.', default: false }),
  tty: flag.boolean({ char: 't', summary: 'Allocate a pseudo-TTY.', default: false }),
  attach: flag.string({ char: 'a', summary: 'Attach to STDIN, STDOUT or STDERR (repeatable).', multiple: true, options: ['stdin', 'stdout', 'stderr', 'STDIN', 'STDOUT', 'STDERR'] }),
  env: flag.string({ char: 'e', summary: 'Set an environment variable (NAME=value, or NAME to pass the CLI\'s own); repeatable.', multiple: true }),
  'env-file': flag.string({ summary: 'Read environment variables from a file (one NAME=value per line); repeatable.', multiple: true }),
  name: flag.string({ summary: 'Name the container.' }),
  rm: flag.boolean({ summary: 'Remove the container when it exits.', default: false }),
  workdir: flag.string({ char: 'w', summary: 'Working directory inside the container.' }),
  hostname: flag.string({ char: 'h', summary: 'Container host name.' }),
  user: flag.string({ char: 'u', summary: 'User name or UID[:GID] to run as.' }),
  entrypoint: flag.string({ summary: 'Overwrite the image\'s ENTRYPOINT ("" clears it).' }),
  label: flag.string({ char: 'l', summary: 'Set a label KEY=value; repeatable.', multiple: true }),
  'log-driver': flag.string({ summary: 'Logging driver for the container (e.g. json-file, none).' }),
  'log-opt': flag.string({ summary: 'Log driver option KEY=value; repeatable.', multiple: true }),
  restart: flag.string({ summary: 'Restart policy when the container exits: no, always, unless-stopped, on-failure[:max-retries].' }),
  'security-opt': flag.string({ summary: 'Security option: seccomp=unconfined, seccomp=PROFILE.json (Docker\'s format), no-new-privileges; repeatable.', multiple: true }),
  volume: flag.string({ char: 'v', summary: 'Bind a host folder or file: /host/path:/container/path[:ro]; repeatable.', multiple: true }),
  mount: flag.string({ summary: 'Bind a host path: type=bind,source=/host/path,target=/container/path[,readonly]; repeatable.', multiple: true }),
  publish: flag.string({ char: 'p', summary: 'Publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp], ranges allowed; repeatable.', multiple: true }),
  'publish-all': flag.boolean({ char: 'P', summary: 'Publish every exposed port (the image\'s and --expose) on a random host port.', default: false }),
  expose: flag.string({ summary: 'Expose a port or a range of ports: PORT[-PORT][/tcp|udp]; repeatable.', multiple: true }),
  network: flag.string({ summary: 'Connect to a network: bridge (the default), none, host, container:NAME, or a network\'s name or id.' }),
  'network-alias': flag.string({ summary: 'Another name the container answers to on its user network; repeatable.', multiple: true }),
  ip: flag.string({ summary: 'The IPv4 address on its user network (e.g. 172.30.100.104).' }),
  dns: flag.string({ summary: 'A DNS server for /etc/resolv.conf; repeatable.', multiple: true }),
  'dns-search': flag.string({ summary: 'A DNS search domain ("." for none); repeatable.', multiple: true }),
  'dns-option': flag.string({ summary: 'A resolv.conf option (e.g. ndots:2); repeatable.', multiple: true }),
  'add-host': flag.string({ summary: 'Add a line to /etc/hosts: HOST:IP (IP may be host-gateway); repeatable.', multiple: true }),
  pull: flag.string({ summary: 'Pull the image before creating: missing (when not here), always, never.', options: ['missing', 'always', 'never'], default: 'missing' }),
  ...limitFlags,
};

export { attachChoice, createBody, type AttachChoice, type CreateBody, type CreateFlagValues } from './create-body.js';

/** `IMAGE [--] [COMMAND] [ARG...]`, the arguments of run and create. */
export const imageCommandArgs = {
  image: arg({ required: true, description: 'Image reference or rootfs tarball path.' }),
  command: arg({ description: 'Command and arguments (after IMAGE, optionally after --).' }),
};
