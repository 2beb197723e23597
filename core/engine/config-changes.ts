import type { ImageConfig } from '../../events/index.js';
import { InvalidArgumentError } from './errors.js';

/** `CMD ["sh", "-c", "x"]` (JSON form) or `CMD sh -c x` (shell form → ["/bin/sh", "-c", "sh -c x"]). */
function commandOf(instruction: string, rest: string): string[] {
  const trimmed = rest.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new InvalidArgumentError(`${instruction} ${rest}: not a valid JSON array`);
    }
    if (!Array.isArray(parsed) || !parsed.every((x): x is string => typeof x === 'string')) {
      throw new InvalidArgumentError(`${instruction} ${rest}: expected a JSON array of strings`);
    }
    return parsed;
  }
  return ['/bin/sh', '-c', trimmed];
}

/** `KEY=VALUE KEY2="two words"` or the legacy `KEY VALUE`. */
function pairsOf(instruction: string, rest: string): [string, string][] {
  const s = rest.trim();
  if (!s.includes('=')) {
    const sp = s.indexOf(' ');
    if (sp < 0) throw new InvalidArgumentError(`${instruction} ${rest}: expected KEY=VALUE`);
    return [[s.slice(0, sp), s.slice(sp + 1).trim()]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const raw = m[2]!;
    out.push([m[1]!, raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
  }
  return out;
}

/**
 * Applies Dockerfile-style changes (`docker commit -c`, `docker import -c`) to an image config:
 * CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME. Anything else is refused with its name.
 */
export function applyConfigChanges(config: ImageConfig, changes: readonly string[]): ImageConfig {
  let c: ImageConfig = config;
  for (const change of changes) {
    const line = change.trim();
    if (line === '') continue;
    const m = /^(\w+)\s*(.*)$/s.exec(line);
    if (!m) throw new InvalidArgumentError(`invalid change ${JSON.stringify(change)}`);
    const instruction = m[1]!.toUpperCase();
    const rest = m[2]!;
    switch (instruction) {
      case 'CMD':
        c = { ...c, Cmd: commandOf(instruction, rest) };
        break;
      case 'ENTRYPOINT':
        c = { ...c, Entrypoint: commandOf(instruction, rest) };
        break;
      case 'WORKDIR':
        c = { ...c, WorkingDir: rest.trim() };
        break;
      case 'USER':
        c = { ...c, User: rest.trim() };
        break;
      case 'ENV': {
        const env = new Map(c.Env.map((e) => [e.split('=', 1)[0]!, e] as const));
        for (const [k, v] of pairsOf(instruction, rest)) env.set(k, `${k}=${v}`);
        c = { ...c, Env: [...env.values()] };
        break;
      }
      case 'LABEL': {
        const labels: Record<string, string> = { ...c.Labels };
        for (const [k, v] of pairsOf(instruction, rest)) labels[k] = v;
        c = { ...c, Labels: labels };
        break;
      }
      case 'EXPOSE': {
        const ports: Record<string, Record<string, never>> = { ...(c.ExposedPorts ?? {}) };
        for (const p of rest.trim().split(/\s+/)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
        c = { ...c, ExposedPorts: ports };
        break;
      }
      case 'VOLUME': {
        // `VOLUME /a /b` or the JSON form `VOLUME ["/a", "/b"]`.
        const trimmed = rest.trim();
        const paths = trimmed.startsWith('[') ? commandOf(instruction, trimmed) : trimmed.split(/\s+/).filter((p) => p !== '');
        if (paths.length === 0) throw new InvalidArgumentError('VOLUME needs at least one path');
        const volumes: Record<string, Record<string, never>> = { ...(c.Volumes ?? {}) };
        for (const p of paths) {
          if (!p.startsWith('/')) throw new InvalidArgumentError(`VOLUME ${p}: the path must be absolute`);
          volumes[p] = {};
        }
        c = { ...c, Volumes: volumes };
        break;
      }
      default:
        throw new InvalidArgumentError(`${instruction} is not a valid change command (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME or WORKDIR)`);
    }
  }
  return c;
}
