import { humanSize, shortId, timeAgo } from './human.js';
import type { Column } from './list-format.js';
import { renderList } from './list-format.js';

/** One layer of `GET /images/{name}/history`, newest first. */
export interface HistoryItem {
  readonly Id: string;
  /** Unix seconds. */
  readonly Created: number;
  readonly CreatedBy: string;
  readonly Tags: readonly string[] | null;
  readonly Size: number;
  readonly Comment: string;
}

export interface HistoryOptions {
  readonly noTrunc: boolean;
  readonly quiet: boolean;
  readonly human: boolean;
  readonly format?: string | undefined;
  readonly now: number;
}

const COLUMNS: readonly Column[] = [
  { header: 'IMAGE', field: 'ID' },
  { header: 'CREATED', field: 'CreatedSince' },
  { header: 'CREATED BY', field: 'CreatedBy' },
  { header: 'SIZE', field: 'Size' },
  { header: 'COMMENT', field: 'Comment' },
];

/** CREATED BY as docker history shows it: cut to 45 characters with an ellipsis, unless --no-trunc. */
function createdBy(text: string, noTrunc: boolean): string {
  const flat = text.replace(/\s+/g, ' ');
  return noTrunc || flat.length <= 45 ? flat : `${flat.slice(0, 44)}…`;
}

/** The rows of `history`, docker's columns and field names (ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment). */
export function renderHistory(items: readonly HistoryItem[], options: HistoryOptions): string {
  if (options.quiet) return items.map((i) => `${options.noTrunc ? i.Id : shortId(i.Id)}\n`).join('');
  const contexts = items.map((i) => ({
    ID: options.noTrunc || i.Id === '<missing>' ? i.Id : shortId(i.Id),
    CreatedSince: options.human ? timeAgo(i.Created * 1000, options.now) : new Date(i.Created * 1000).toISOString(),
    CreatedAt: new Date(i.Created * 1000).toISOString(),
    CreatedBy: createdBy(i.CreatedBy, options.noTrunc),
    Size: options.human ? humanSize(i.Size) : String(i.Size),
    Comment: i.Comment,
  }));
  return renderList(contexts, COLUMNS, options.format);
}
