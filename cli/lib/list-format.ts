import { renderTable } from './table.js';
import { Template } from './template.js';

/** One column of a list command: its table header and the context field it shows. */
export interface Column {
  readonly header: string;
  readonly field: string;
}

/**
 * Renders rows like docker's list formatters. `format`: undefined or "table" → the default
 * columns; "json" → one JSON object per line; "table <template>" → a table of that template with
 * headers; anything else → the template once per row.
 */
export function renderList(contexts: readonly Readonly<Record<string, unknown>>[], columns: readonly Column[], format?: string): string {
  if (format === undefined || format === '' || format === 'table') {
    return renderTable([columns.map((c) => c.header), ...contexts.map((ctx) => columns.map((c) => String(ctx[c.field] ?? '')))]);
  }
  if (format === 'json') return contexts.map((ctx) => `${JSON.stringify(ctx)}\n`).join('');
  if (format.startsWith('table ')) {
    const template = new Template(format.slice('table '.length).trim());
    const headers: Record<string, string> = {};
    for (const path of template.fields) {
      const top = path.slice(1).split('.')[0]!;
      headers[top] = columns.find((c) => c.field === top)?.header ?? top.toUpperCase();
    }
    const lines = [template.render(headers), ...contexts.map((ctx) => template.render(ctx))];
    return renderTable(lines.map((l) => l.split('\t')));
  }
  const template = new Template(format);
  return contexts.map((ctx) => `${template.render(ctx)}\n`).join('');
}
