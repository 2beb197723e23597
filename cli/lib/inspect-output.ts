import type { CommandContext } from './command-runtime.js';
import { CliError } from './errors.js';
import { Template } from './template.js';

/**
 * How every `inspect` prints, as the docker CLI: the objects found as one JSON array (or `format`,
 * a Go-like template, once per object), then one `Error: <message>` line per name not found, the
 * last one the command's error (exit 1) — so the objects found are printed even when some are not.
 */
export function printInspected<T>(ctx: Pick<CommandContext, 'out' | 'err'>, found: readonly T[], missing: readonly string[], format: string | undefined): readonly T[] {
  if (format) {
    const template = new Template(format);
    for (const o of found) ctx.out(template.render(o));
  } else {
    ctx.out(JSON.stringify(found, null, 4));
  }
  if (missing.length > 0) {
    for (const m of missing.slice(0, -1)) ctx.err(`Error: ${m}`);
    throw new CliError(missing[missing.length - 1]!);
  }
  return found;
}
