import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Container, ContainerModule } from 'inversify';
import { Driver } from './driver.js';
import type { PluginLoadFailure, RegisteredDriver } from './plugin-registry.js';

/** A package that contributes drivers: its package.json says `"tinyDocker": {"module": "./x-module.js"}`. */
export interface PluginPackage {
  readonly name: string;
  readonly root: string;
  /** Absolute path of the module whose default export is an inversify ContainerModule. */
  readonly modulePath: string;
  /** builtin: listed in the engine's package.json; user/link: added with `mini-docker plugins install|link`. */
  readonly source: 'builtin' | 'user' | 'link';
}

export type { PluginLoadFailure } from './plugin-registry.js';

interface PackageJson {
  readonly name?: string;
  readonly tinyDocker?: { readonly module?: string; readonly plugins?: readonly string[] };
}

function readPackageJson(root: string): PackageJson | undefined {
  const file = join(root, 'package.json');
  if (!existsSync(file)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return typeof parsed === 'object' && parsed !== null ? (parsed as PackageJson) : undefined;
}

function asPluginPackage(root: string, source: PluginPackage['source']): PluginPackage | undefined {
  const pjson = readPackageJson(root);
  const module = pjson?.tinyDocker?.module;
  if (!pjson || !module) return undefined;
  return { name: pjson.name ?? root, root, modulePath: resolve(root, module), source };
}

/**
 * Finds plugin packages: the built-ins named in the engine's package.json (`tinyDocker.plugins`,
 * folders relative to the package root), then those the user installed or linked through the
 * CLI (oclif's plugin list, read with @oclif/core). It never scans folders.
 */
export async function discoverPlugins(packageRoot: string): Promise<PluginPackage[]> {
  const found: PluginPackage[] = [];
  const own = readPackageJson(packageRoot);
  for (const rel of own?.tinyDocker?.plugins ?? []) {
    const p = asPluginPackage(resolve(packageRoot, rel), 'builtin');
    if (p) found.push(p);
  }
  const { Config } = await import('@oclif/core');
  const config = await Config.load({ root: packageRoot });
  for (const plugin of config.getPluginsList()) {
    if (plugin.type !== 'user' && plugin.type !== 'link') continue;
    const p = asPluginPackage(plugin.root, plugin.type);
    if (p) found.push(p);
  }
  return found;
}

function isContainerModule(value: unknown): value is ContainerModule {
  return value instanceof ContainerModule;
}

/**
 * Loads each package's ContainerModule into its own child container (so every driver is
 * attributed to its package) and collects the drivers bound under the `Driver` symbol.
 */
export async function loadDrivers(packages: readonly (PluginPackage & { readonly moduleUrl?: string })[], root: Container): Promise<{ drivers: RegisteredDriver[]; failures: PluginLoadFailure[] }> {
  const drivers: RegisteredDriver[] = [];
  const failures: PluginLoadFailure[] = [];
  for (const pkg of packages) {
    try {
      const mod: unknown = await import(pkg.moduleUrl ?? pathToFileURL(pkg.modulePath).href);
      const candidate = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : undefined;
      if (!isContainerModule(candidate)) {
        throw new Error(`${pkg.modulePath} must default-export an inversify ContainerModule imported from 'tiny-docker/plugin-api'`);
      }
      const child = new Container({ parent: root });
      await child.load(candidate);
      const contributed = child.isCurrentBound(Driver) ? child.getAll<Driver>(Driver) : [];
      if (contributed.length === 0) throw new Error(`${pkg.name} binds no Driver`);
      for (const driver of contributed) drivers.push({ driver, packageName: pkg.name });
    } catch (err) {
      failures.push({ packageName: pkg.name, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return { drivers, failures };
}

let selfResolveRegistered = false;

/**
 * Makes `import ... from 'tiny-docker/...'` in any plugin resolve to this engine (a Node module
 * hook, registered once per process). The daemon calls it before loading plugins.
 */
export function registerSelfResolve(): void {
  if (selfResolveRegistered) return;
  selfResolveRegistered = true;
  register(new URL('./self-resolve-hook.js', import.meta.url));
}
