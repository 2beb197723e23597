import type { CommandContext } from './command-runtime.js';
import { errorLine } from './errors.js';
import { Template } from './template.js';

/**
 * How every `inspect` prints, as the docker CLI: the objects found as one JSON array (or `format`,
 * a Go-like template, once per object), then one error line per name not found (the daemon's
 * answer as `Error response from daemon: <message>`, the CLI's own as `Error: <message>`), the
 * last one the command's error (exit 1) — so the objects found are printed even when some are not.
 */
export function printInspected<T>(ctx: Pick<CommandContext, 'out' | 'err'>, found: readonly T[], missing: readonly Error[], format: string | undefined): readonly T[] {
  if (format) {
    const template = new Template(format);
    for (const o of found) ctx.out(template.render(o));
  } else {
    ctx.out(JSON.stringify(found, null, 4));
  }
  if (missing.length > 0) {
    for (const m of missing.slice(0, -1)) ctx.err(errorLine(m));
    throw missing[missing.length - 1]!;
  }
  return found;
}
