import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** The key Docker Hub's credentials have in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** The docker CLI's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/** The registry host of a reference's name: "busybox" → docker.io, "127.0.0.1:5000/x" → 127.0.0.1:5000. */
export function registryOfName(name: string): string {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  return slash !== -1 && (/[.:]/.test(first) || first === 'localhost') ? first : 'docker.io';
}

/** The config.json key of a registry ("docker.io" → Docker Hub's URL key), as the docker CLI writes it. */
export function authKeyOf(server: string): string {
  const bare = server.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return bare === '' || bare === 'docker.io' || bare === 'index.docker.io' || bare === 'registry-1.docker.io' ? DOCKER_HUB_AUTH_KEY : bare;
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  [key: string]: unknown;
}

async function readConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as ConfigFile) : {};
  } catch {
    throw new Error(`${path} is not valid JSON: fix or remove it`);
  }
}

async function writeConfig(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Stores `user:password` for a registry (base64 in `auths[key].auth`, as the docker CLI does); other keys are kept. */
export async function saveCredentials(server: string, username: string, password: string, path = dockerConfigPath()): Promise<void> {
  const config = await readConfig(path);
  config.auths = { ...(config.auths ?? {}), [authKeyOf(server)]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  await writeConfig(path, config);
}

/** Forgets a registry's credentials; false when there were none. */
export async function removeCredentials(server: string, path = dockerConfigPath()): Promise<boolean> {
  const config = await readConfig(path);
  const key = authKeyOf(server);
  if (!config.auths?.[key]) return false;
  delete config.auths[key];
  await writeConfig(path, config);
  return true;
}

/**
 * The X-Registry-Auth header for a registry, from config.json (base64url JSON with username,
 * password and serveraddress); undefined when none are stored.
 */
export async function registryAuthHeader(server: string, path = dockerConfigPath()): Promise<string | undefined> {
  const config = await readConfig(path);
  const key = authKeyOf(server);
  const entry = config.auths?.[key];
  if (!entry) return undefined;
  const doc: Record<string, string> = { serveraddress: key };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      doc.username = decoded.slice(0, colon);
      doc.password = decoded.slice(colon + 1);
    }
  }
  if (entry.identitytoken) doc.identitytoken = entry.identitytoken;
  return Buffer.from(JSON.stringify(doc)).toString('base64url');
}
