import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DaemonClient } from './daemon-client.js';
import type { ClientPaths } from './paths.js';

/** What `POST /tiny/plugins/reload` answers. */
export interface PluginReloadReport {
  readonly loaded: readonly string[];
  readonly failed: readonly { readonly package: string; readonly reason: string }[];
  readonly plugins: readonly { readonly id: string; readonly package: string; readonly status: string; readonly reason?: string }[];
}

/**
 * What `plugins install` hands to npm for an argument: a folder or a tarball that exists on disk
 * (`./x`, `/abs/x.tgz`, `~/x`, `x.tgz`) becomes `file:<absolute path>`; anything else (an npm
 * name, `@scope/name@1.2`, a URL, `file:…`) is left to oclif as it was.
 */
export function localInstallSource(input: string, cwd: string = process.cwd()): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(input)) return undefined; // file:, https:, git+ssh: …
  const expanded = input === '~' ? homedir() : input.startsWith('~/') ? `${homedir()}${input.slice(1)}` : input;
  const looksLikePath = expanded.startsWith('.') || isAbsolute(expanded) || /\.(tgz|tar\.gz|tar)$/.test(expanded);
  const abs = isAbsolute(expanded) ? expanded : resolve(cwd, expanded);
  if (existsSync(abs)) return `file:${abs}`;
  if (looksLikePath) throw new Error(`no such plugin folder or tarball: ${input}`);
  return undefined;
}

/**
 * Asks a running daemon to load the plugins installed since it started. No daemon running is not
 * an error: it loads every installed plugin when it starts. Returns undefined then.
 */
export async function reloadDaemonPlugins(paths: ClientPaths): Promise<PluginReloadReport | undefined> {
  const client = new DaemonClient(paths.socketPath);
  try {
    if (!(await client.ping(1000)).ok) return undefined;
    return await client.json<PluginReloadReport>('POST', '/tiny/plugins/reload');
  } finally {
    client.close();
  }
}

/** The lines `plugins install` and `plugins reload` print about what the daemon took up. */
export function describeReload(report: PluginReloadReport | undefined): string[] {
  if (!report) return ['no daemon is running: it loads the installed plugins when it starts'];
  const lines: string[] = [];
  for (const name of report.loaded) {
    const drivers = report.plugins.filter((p) => p.package === name);
    lines.push(`the daemon loaded ${name}: ${drivers.map((d) => `${d.id} ${d.status}${d.reason ? ` (${d.reason})` : ''}`).join(', ')}`);
  }
  for (const f of report.failed) lines.push(`the daemon could not load ${f.package}: ${f.reason}`);
  if (lines.length === 0) lines.push('the daemon found no new plugin package (a changed package needs a daemon restart)');
  return lines;
}

/**
 * Checks a plugin folder or tarball on disk before anything is installed: it must have a
 * package.json with an `oclif` section (oclif refuses the package otherwise, after npm already
 * added it to the CLI's plugin folder). Returns the package's name.
 */
export function checkLocalPlugin(path: string): string {
  let text: string;
  try {
    text = statSync(path).isDirectory()
      ? readFileSync(join(path, 'package.json'), 'utf8')
      : execFileSync('tar', ['-xzOf', path, 'package/package.json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    throw new Error(`${path} has no package.json: a plugin is an npm package (a folder with package.json, or the tarball npm pack makes)`);
  }
  let pkg: { name?: unknown; oclif?: unknown };
  try {
    pkg = JSON.parse(text) as { name?: unknown; oclif?: unknown };
  } catch (err) {
    throw new Error(`the package.json of ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof pkg.name !== 'string' || pkg.name === '') throw new Error(`the package.json of ${path} has no name`);
  if (typeof pkg.oclif !== 'object' || pkg.oclif === null) {
    throw new Error(`${pkg.name} is not an oclif plugin: its package.json needs an "oclif" section (at least "oclif": {}), see docs/writing-a-driver.md`);
  }
  return pkg.name;
}

/** One line of `GET /tiny/plugins`. */
export interface DaemonPluginLine {
  readonly id: string;
  readonly package: string;
  readonly status: string;
  readonly reason?: string;
}

/** What a running daemon says of its plugins (`GET /tiny/plugins`); undefined when no daemon runs (none is started). */
export async function daemonDrivers(paths: ClientPaths): Promise<readonly DaemonPluginLine[] | undefined> {
  const client = new DaemonClient(paths.connection);
  try {
    if (!(await client.ping(1000)).ok) return undefined;
    return await client.json<readonly DaemonPluginLine[]>('GET', '/tiny/plugins');
  } finally {
    client.close();
  }
}

/** The lines `plugins` adds: the third-party packages' drivers as the daemon loaded them, failures with why. */
export function describeDaemonDrivers(lines: readonly DaemonPluginLine[] | undefined): string[] {
  if (!lines) return ['', 'no daemon is running: it loads the installed plugins when it starts'];
  const own = lines.filter((l) => !l.package.startsWith('@tiny-docker/'));
  if (own.length === 0) return [];
  return ['', 'In the running daemon:', ...own.map((l) => `  ${l.package}: ${l.id === '(package)' ? 'the package' : l.id} ${l.status}${l.reason ? ` (${l.reason})` : ''}`)];
}
