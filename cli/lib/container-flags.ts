import { arg, flag } from './command-declaration.js';
import { limitFlags } from './limit-flags.js';
import { processFlags } from './process-flags.js';

/** The flags `run` and `create` share (docker's names; `-c` is the original project's cpu.max). */
export const createFlags = {
  ...processFlags,
  attach: flag.string({ char: 'a', summary: 'Attach to STDIN, STDOUT or STDERR (repeatable).', multiple: true, options: ['stdin', 'stdout', 'stderr', 'STDIN', 'STDOUT', 'STDERR'] }),
  name: flag.string({ summary: 'Name the container.' }),
  rm: flag.boolean({ summary: 'Remove the container when it exits.', default: false }),
  hostname: flag.string({ char: 'h', summary: 'Container host name.' }),
  entrypoint: flag.string({ summary: 'Overwrite the image\'s ENTRYPOINT ("" clears it).' }),
  label: flag.string({ char: 'l', summary: 'Set a label KEY=value; repeatable.', multiple: true }),
  'log-driver': flag.string({ summary: 'Logging driver for the container (e.g. json-file, none).' }),
  'log-opt': flag.string({ summary: 'Log driver option KEY=value; repeatable.', multiple: true }),
  restart: flag.string({ summary: 'Restart policy when the container exits: no, always, unless-stopped, on-failure[:max-retries].' }),
  'security-opt': flag.string({ summary: 'Security option: seccomp=unconfined, seccomp=PROFILE.json (Docker\'s format), no-new-privileges; repeatable.', multiple: true }),
  'cap-add': flag.string({ summary: 'Add a Linux capability (NET_ADMIN, CAP_SYS_TIME, ALL; any case); repeatable.', multiple: true }),
  'cap-drop': flag.string({ summary: 'Drop a Linux capability (MKNOD, CAP_NET_RAW, ALL); repeatable.', multiple: true }),
  privileged: flag.boolean({ summary: 'Give the container every capability the daemon holds, every host device, no seccomp, writable /sys and no masked paths.', default: false }),
  'read-only': flag.boolean({ summary: 'Mount the container\'s root filesystem read-only.', default: false }),
  tmpfs: flag.string({ summary: 'Mount a tmpfs: /path[:options] (size=64m,mode=1777,exec,...); repeatable.', multiple: true }),
  device: flag.string({ summary: 'Give the container a host device: /dev/host[:/dev/container[:rwm]]; repeatable.', multiple: true }),
  userns: flag.string({ summary: 'User namespace: host (run with the host\'s ids even when the daemon has --userns-remap).' }),
  volume: flag.string({ char: 'v', summary: 'Mount a volume or bind a host path: NAME:/path[:ro], /path (a new anonymous volume) or /host/path:/path[:ro]; repeatable.', multiple: true }),
  mount: flag.string({ summary: 'Mount: type=volume,src=NAME,dst=/path[,readonly][,volume-nocopy], type=bind,source=/host/path,target=/path[,readonly] or type=tmpfs,target=/path[,tmpfs-size=64m,tmpfs-mode=1777]; repeatable.', multiple: true }),
  'volumes-from': flag.string({ summary: 'Mount the volumes (and binds) of another container: CONTAINER[:ro|rw]; repeatable.', multiple: true }),
  publish: flag.string({ char: 'p', summary: 'Publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp], ranges allowed; repeatable.', multiple: true }),
  'publish-all': flag.boolean({ char: 'P', summary: 'Publish every exposed port (the image\'s and --expose) on a random host port.', default: false }),
  expose: flag.string({ summary: 'Expose a port or a range of ports: PORT[-PORT][/tcp|udp]; repeatable.', multiple: true }),
  network: flag.string({ summary: 'Connect to a network: bridge (the default), none, host, container:NAME, or a network\'s name or id.', aliases: ['net'] }),
  'network-alias': flag.string({ summary: 'Another name the container answers to on its user network; repeatable.', multiple: true, aliases: ['net-alias'] }),
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
