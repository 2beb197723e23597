import type { ContainerSummary } from './api-types.js';
import { ellipsis, shortId, timeAgo } from './human.js';
import type { Column } from './list-format.js';
import { renderList } from './list-format.js';

/** The ps table's columns: docker's. */
export const PS_COLUMNS: readonly Column[] = [
  { header: 'CONTAINER ID', field: 'ID' },
  { header: 'IMAGE', field: 'Image' },
  { header: 'COMMAND', field: 'Command' },
  { header: 'CREATED', field: 'RunningFor' },
  { header: 'STATUS', field: 'Status' },
  { header: 'PORTS', field: 'Ports' },
  { header: 'NAMES', field: 'Names' },
];

export interface PsOptions {
  readonly noTrunc?: boolean;
  readonly quiet?: boolean;
  readonly format?: string;
  /** "Now" for the CREATED column, in ms (a replay passes its own moment). */
  readonly now: number;
}

/** What one ps row exposes to `--format` templates (docker's field names). */
export interface PsContext {
  readonly ID: string;
  readonly Image: string;
  readonly Command: string;
  readonly CreatedAt: string;
  readonly RunningFor: string;
  readonly State: string;
  readonly Status: string;
  readonly Ports: string;
  readonly Names: string;
  readonly Labels: string;
  readonly [field: string]: unknown;
}

/** Docker's ps cell values for one container. */
export function psContext(c: ContainerSummary, options: Pick<PsOptions, 'noTrunc' | 'now'>): PsContext {
  const createdMs = c.Created * 1000;
  const image = /^sha256:[0-9a-f]{64}$/.test(c.Image) && !options.noTrunc ? shortId(c.Image) : c.Image;
  return {
    ID: options.noTrunc ? c.Id : shortId(c.Id),
    Image: image,
    Command: JSON.stringify(options.noTrunc ? c.Command : ellipsis(c.Command, 20)),
    CreatedAt: new Date(createdMs).toISOString(),
    RunningFor: timeAgo(createdMs, options.now),
    State: c.State,
    Status: c.Status,
    Ports: portsText(c.Ports ?? []),
    Names: c.Names.map((n) => n.replace(/^\//, '')).filter((n) => !n.includes('/')).join(','),
    Labels: Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
  };
}

/** Docker's PORTS cell: "0.0.0.0:8080->80/tcp, 443/tcp" (published first as the daemon lists them). */
export function portsText(ports: NonNullable<ContainerSummary['Ports']>): string {
  return ports.map((p) => (p.PublicPort !== undefined ? `${p.IP ?? '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', ');
}

/** The whole ps output: ids only (-q), the table, json lines or a template. */
export function renderPs(containers: readonly ContainerSummary[], options: PsOptions): string {
  const contexts = containers.map((c) => psContext(c, options));
  if (options.quiet) return contexts.map((c) => `${c.ID}\n`).join('');
  return renderList(contexts, PS_COLUMNS, options.format);
}
