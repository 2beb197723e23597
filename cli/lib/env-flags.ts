import { readFileSync } from 'node:fs';

/**
 * Resolves `-e` values like docker: `NAME=value` as given; a bare `NAME` takes its value from
 * the CLI's own environment, and is left out when the CLI has no such variable.
 */
export function resolveEnv(values: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const value of values) {
    if (value.includes('=')) {
      if (value.startsWith('=')) throw new Error(`invalid environment variable: ${value}`);
      out.push(value);
      continue;
    }
    const name = value.trim();
    if (name === '') continue;
    const local = env[name];
    if (local !== undefined) out.push(`${name}=${local}`);
  }
  return out;
}

/**
 * The entries of an `--env-file`: one per line, blank lines and `#` comments skipped, bare names
 * resolved. A name with whitespace in it (`export A=1`) is refused, in the docker CLI's words.
 */
export function parseEnvFile(text: string, env: NodeJS.ProcessEnv = process.env, file = 'env file'): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/^\s+/, '')).filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const name = line.includes('=') ? line.slice(0, line.indexOf('=')) : line.trimEnd();
    if (/\s/.test(name)) throw new Error(`invalid env file (${file}): variable '${name}' contains whitespaces`);
  }
  return resolveEnv(lines, env);
}

/** Reads the env files then the -e flags, in docker's order (later entries win in the container). */
export function environmentFrom(envFiles: readonly string[], envFlags: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const fromFiles = envFiles.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    return parseEnvFile(text, env, file);
  });
  return [...fromFiles, ...resolveEnv(envFlags, env)];
}
