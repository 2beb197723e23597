import type { Column } from './list-format.js';
import { renderList } from './list-format.js';

/** A volume as the daemon answers `GET /volumes` and `GET /volumes/{name}`. */
export interface VolumeSummary {
  readonly Name: string;
  readonly Driver: string;
  readonly Mountpoint: string;
  readonly CreatedAt: string;
  readonly Labels: Readonly<Record<string, string>> | null;
  readonly Options: Readonly<Record<string, string>> | null;
  readonly Scope: string;
}

/** docker volume ls' columns. */
export const VOLUME_COLUMNS: readonly Column[] = [
  { header: 'DRIVER', field: 'Driver' },
  { header: 'VOLUME NAME', field: 'Name' },
];

/** One row per volume with docker's template fields (Name, Driver, Scope, Mountpoint, Labels, CreatedAt). */
export function volumeContexts(volumes: readonly VolumeSummary[]): Record<string, string>[] {
  return volumes.map((v) => ({
    Name: v.Name,
    Driver: v.Driver,
    Scope: v.Scope,
    Mountpoint: v.Mountpoint,
    CreatedAt: v.CreatedAt,
    Labels: Object.entries(v.Labels ?? {}).map(([k, x]) => `${k}=${x}`).join(','),
  }));
}

/** The whole `volume ls` output: names only (-q), the table, json lines or a template. */
export function renderVolumes(volumes: readonly VolumeSummary[], options: { readonly quiet?: boolean; readonly format?: string }): string {
  const contexts = volumeContexts(volumes);
  if (options.quiet) return contexts.map((c) => `${c.Name}\n`).join('');
  return renderList(contexts, VOLUME_COLUMNS, options.format);
}

/** `KEY=value` flags (--label, --opt) as a map; a label may have no value. */
export function keyValueFlags(values: readonly string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq === 0 || (eq < 0 && what !== 'label')) throw new Error(`invalid ${what} ${JSON.stringify(v)}: use KEY=value`);
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}
