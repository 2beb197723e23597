import { flag } from './command-declaration.js';

// Flags that several commands take with the same meaning, declared once (commands spread them in).

/** The flags of a process started in a container, by run and create and by exec: declared once here. */
export const processFlags = {
  interactive: flag.boolean({ char: 'i', summary: 'Keep STDIN open and attach it.', default: false }),
  tty: flag.boolean({ char: 't', summary: 'Allocate a pseudo-TTY.', default: false }),
  env: flag.string({ char: 'e', summary: 'Set an environment variable (NAME=value, or NAME to pass the CLI\'s own); repeatable.', multiple: true }),
  'env-file': flag.string({ summary: 'Read environment variables from a file (one NAME=value per line); repeatable.', multiple: true }),
  workdir: flag.string({ char: 'w', summary: 'Working directory inside the container.' }),
  user: flag.string({ char: 'u', summary: 'User name or UID[:GID] to run as.' }),
};

/** `--detach-keys` of run, exec, start and attach. */
export const detachKeysFlag = { 'detach-keys': flag.string({ summary: 'Key sequence that detaches from a TTY session.', default: 'ctrl-p,ctrl-q' }) };

/** `--sig-proxy` of run and attach (docker spells it off `--sig-proxy=false`; `--no-sig-proxy` too). */
export const sigProxyFlag = { 'sig-proxy': flag.boolean({ summary: 'Forward received signals to the container (non-TTY only).', default: true, allowNo: true }) };
