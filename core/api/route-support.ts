import type { StatsHistoryReader } from './stats-history-routes.js';
import type { Writable } from 'node:stream';
import type { Engine } from '../engine/engine.js';
import type { NetworkService } from '../engine/network-service.js';
import type { RegistryService } from '../engine/registry-service.js';
import type { Logger } from '../plugins/driver.js';
import { compareVersions } from './http-params.js';

/** What every route file needs. */
export interface RouteDeps {
  readonly engine: Engine;
  /** The daemon's version, for `/version`, `/info` and the `Server` header. */
  readonly version: string;
  readonly logger: Logger;
  /** Loads plugin packages installed since the daemon started; absent where it cannot (tests). */
  readonly reloadPlugins?: () => Promise<PluginReloadResult>;
  /** Pulls, pushes and logins; absent when no distribution driver is wired. */
  readonly registry?: RegistryService;
  /** Networks (`/networks`); absent in tests that serve a fake engine. */
  readonly networks?: NetworkService;
  /** The kept stats readings (`GET /tiny/stats/{id}`); absent where none are kept. */
  readonly statsHistory?: StatsHistoryReader;
}

/** What `POST /tiny/plugins/reload` answers: the packages it loaded now, and every driver as `info` lists it. */
export interface PluginReloadResult {
  readonly loaded: readonly string[];
  readonly failed: readonly { readonly package: string; readonly reason: string }[];
  readonly plugins: readonly { readonly id: string; readonly package: string; readonly status: string; readonly reason?: string }[];
}

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

/** The Content-Type of attach, exec and logs: multiplexed for non-TTY at API ≥ 1.42, raw otherwise. */
export function streamContentType(tty: boolean, apiVersion: string): string {
  return !tty && compareVersions(apiVersion, '1.42') >= 0 ? MULTIPLEXED_STREAM : RAW_STREAM;
}

/** Writes one JSON document and a newline to a streamed response, unless the client is gone. */
export function writeJsonLine(out: Writable, value: unknown, separator = '\n'): void {
  if (!out.writableEnded && !out.destroyed) out.write(`${JSON.stringify(value)}${separator}`);
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
