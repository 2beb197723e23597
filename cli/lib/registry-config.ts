import { spawn } from 'node:child_process';
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
  /** A credential helper for every registry: `docker-credential-<credsStore>`. */
  credsStore?: string;
  /** A credential helper per registry key, before credsStore. */
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** What a credential helper says when it has nothing for a server (the docker-credential-helpers protocol). */
const NOT_FOUND = /credentials not found/i;

/** The credential helper that keeps a registry's secrets, as the docker CLI picks it: credHelpers[key], else credsStore. */
function helperOf(config: ConfigFile, key: string): string | undefined {
  const named = config.credHelpers?.[key] ?? config.credsStore;
  return typeof named === 'string' && named !== '' ? named : undefined;
}

/**
 * Runs `docker-credential-<helper> <action>` with `input` on stdin (the protocol of the docker CLI's
 * credential helpers: store, get, erase); resolves to its stdout, rejects with its own message.
 */
function runHelper(helper: string, action: 'store' | 'get' | 'erase', input: string): Promise<string> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(error.code === 'ENOENT'
        ? `the credential helper ${program} is not installed (config.json names it): install it, or remove "credsStore"/"credHelpers" from ${dockerConfigPath()}`
        : `the credential helper ${program} failed to run: ${error.message}`));
    });
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0) return resolve(stdout);
      const said = (stdout.trim() || Buffer.concat(err).toString('utf8').trim()).split('\n')[0] ?? '';
      reject(new Error(`${program} ${action}: ${said || `exit status ${code ?? 'unknown'}`}`));
    });
    child.stdin.on('error', () => undefined); // a helper that exits without reading: its exit says why
    child.stdin.end(input);
  });
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

/**
 * Stores `user:password` for a registry: with the registry's credential helper when config.json
 * names one (the file then keeps an empty entry, as the docker CLI's), else base64 in
 * `auths[key].auth`. Other keys are kept. Returns the helper used, or undefined for the file.
 */
export async function saveCredentials(server: string, username: string, password: string, path = dockerConfigPath()): Promise<string | undefined> {
  const config = await readConfig(path);
  const key = authKeyOf(server);
  const helper = helperOf(config, key);
  if (helper) await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: username, Secret: password }));
  config.auths = { ...(config.auths ?? {}), [key]: helper ? {} : { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  await writeConfig(path, config);
  return helper;
}

/** Forgets a registry's credentials; false when there were none. */
export async function removeCredentials(server: string, path = dockerConfigPath()): Promise<boolean> {
  const config = await readConfig(path);
  const key = authKeyOf(server);
  const helper = helperOf(config, key);
  let erased = false;
  if (helper) {
    try {
      await runHelper(helper, 'erase', key);
      erased = true;
    } catch (error) {
      if (!NOT_FOUND.test((error as Error).message)) throw error;
    }
  }
  if (!config.auths?.[key]) return erased;
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
  const helper = helperOf(config, key);
  if (helper) {
    let answer: string;
    try {
      answer = await runHelper(helper, 'get', key);
    } catch (error) {
      if (NOT_FOUND.test((error as Error).message)) return undefined;
      throw error;
    }
    let got: { Username?: unknown; Secret?: unknown };
    try {
      got = JSON.parse(answer) as { Username?: unknown; Secret?: unknown };
    } catch {
      throw new Error(`docker-credential-${helper} get: its answer is not JSON`);
    }
    const username = typeof got.Username === 'string' ? got.Username : '';
    const secret = typeof got.Secret === 'string' ? got.Secret : '';
    // "<token>" as the user name: the secret is an identity token (the helpers' convention).
    const doc = username === '<token>' ? { serveraddress: key, identitytoken: secret } : { serveraddress: key, username, password: secret };
    return Buffer.from(JSON.stringify(doc)).toString('base64url');
  }
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
