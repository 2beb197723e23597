/**
 * oclif's help (package.json `oclif.helpClass`), with one addition: the root help (`mini-docker
 * --help`, `mini-docker` alone, `mini-docker -H x`) lists the global flags taken before a command,
 * as `docker --help` lists its "Global Options" (docs/cli.md, Global flags before the command).
 * Loaded only by oclif, for help.
 */
import { Help } from '@oclif/core';
import { environmentFlags, globalFlags, type AnyFlag } from './lib/command-declaration.js';

/** A flag as help shows it: `-H, --host=<value>`, `--tls`, `-l, --log-level=<option>`. */
function usageOf(name: string, decl: AnyFlag): string {
  const value = decl.kind === 'boolean' ? '' : decl.options ? `=${decl.options.join('|')}` : '=<value>';
  return `${decl.char ? `-${decl.char}, ` : '    '}--${name}${value}`;
}

/** The rows of the root help's GLOBAL FLAGS section: the connection flags, then -D, -l, --config. */
export function globalFlagRows(): [string, string | undefined][] {
  return Object.entries({ ...globalFlags, ...environmentFlags }).map(([name, decl]) => [usageOf(name, decl), decl.summary]);
}

export default class MiniDockerHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp();
    this.log(this.section('GLOBAL FLAGS', globalFlagRows()));
    this.log('');
  }
}
