import { Args, Flags } from '@oclif/core';
import { limitFlags } from './limit-flags.js';

/** The flags `run` and `create` share (docker's names; `-c` is the original project's cpu.max). */
export const createFlags = {
  interactive: Flags.boolean({ char: 'i', summary: 'Keep STDIN open and attach it.', default: false }),
  tty: Flags.boolean({ char: 't', summary: 'Allocate a pseudo-TTY.', default: false }),
  attach: Flags.string({ char: 'a', summary: 'Attach to STDIN, STDOUT or STDERR (repeatable).', multiple: true, multipleNonGreedy: true, options: ['stdin', 'stdout', 'stderr', 'STDIN', 'STDOUT', 'STDERR'] }),
  env: Flags.string({ char: 'e', summary: 'Set an environment variable (NAME=value, or NAME to pass the CLI\'s own); repeatable.', multiple: true, multipleNonGreedy: true }),
  'env-file': Flags.string({ summary: 'Read environment variables from a file (one NAME=value per line); repeatable.', multiple: true, multipleNonGreedy: true }),
  name: Flags.string({ summary: 'Name the container.' }),
  rm: Flags.boolean({ summary: 'Remove the container when it exits.', default: false }),
  workdir: Flags.string({ char: 'w', summary: 'Working directory inside the container.' }),
  hostname: Flags.string({ char: 'h', summary: 'Container host name.' }),
  user: Flags.string({ char: 'u', summary: 'User name or UID[:GID] to run as.' }),
  entrypoint: Flags.string({ summary: 'Overwrite the image\'s ENTRYPOINT ("" clears it).' }),
  label: Flags.string({ char: 'l', summary: 'Set a label KEY=value; repeatable.', multiple: true, multipleNonGreedy: true }),
  'log-driver': Flags.string({ summary: 'Logging driver for the container (e.g. json-file, none).' }),
  'log-opt': Flags.string({ summary: 'Log driver option KEY=value; repeatable.', multiple: true, multipleNonGreedy: true }),
  restart: Flags.string({ summary: 'Restart policy when the container exits: no, always, unless-stopped, on-failure[:max-retries].' }),
  'security-opt': Flags.string({ summary: 'Security option: seccomp=unconfined, seccomp=PROFILE.json (Docker\'s format), no-new-privileges; repeatable.', multiple: true, multipleNonGreedy: true }),
  volume: Flags.string({ char: 'v', summary: 'Bind a host folder or file: /host/path:/container/path[:ro]; repeatable.', multiple: true, multipleNonGreedy: true }),
  mount: Flags.string({ summary: 'Bind a host path: type=bind,source=/host/path,target=/container/path[,readonly]; repeatable.', multiple: true, multipleNonGreedy: true }),
  pull: Flags.string({ summary: 'Pull the image before creating: missing (when not here), always, never.', options: ['missing', 'always', 'never'], default: 'missing' }),
  ...limitFlags,
};

export { attachChoice, createBody, type AttachChoice, type CreateBody, type CreateFlagValues } from './create-body.js';

/** `IMAGE [--] [COMMAND] [ARG...]`, the arguments of run and create. */
export const imageCommandArgs = {
  image: Args.string({ ignoreStdin: true, required: true, description: 'Image reference or rootfs tarball path.' }),
  command: Args.string({ ignoreStdin: true, description: 'Command and arguments (after IMAGE, optionally after --).' }),
};
