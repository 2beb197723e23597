import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { CliError } from '../lib/errors.js';
import { readBody } from '../lib/daemon-client.js';
import { DOCKER_HUB_AUTH_KEY, dockerConfigPath, saveCredentials } from '../lib/registry-config.js';

/** `mini-docker login`: check credentials with a registry and keep them in the docker CLI's config.json. */
export default defineCommand({
  summary: 'Log in to a registry.',

  description: `The daemon checks the credentials with the registry (POST /auth); on success they are stored in the docker CLI's config file ($DOCKER_CONFIG/config.json, else ~/.docker/config.json) in its format, so pull, push, run and the docker CLI use them; when that file names a credential helper ("credsStore", or "credHelpers" for this registry), the secret goes to docker-credential-<name> instead, as with the docker CLI. SERVER defaults to Docker Hub. Read the password from stdin with --password-stdin.

Exit codes: 0, or 1 (refused, unreachable, no password).`,

  examples: [
    '<%= config.bin %> login -u alice 127.0.0.1:5000',
    'echo "$TOKEN" | <%= config.bin %> login -u alice --password-stdin registry.example.com',
  ],

  flags: {
    username: flag.string({ char: 'u', summary: 'Username.' }),
    password: flag.string({ char: 'p', summary: 'Password (prefer --password-stdin).' }),
    'password-stdin': flag.boolean({ summary: 'Take the password from stdin.' }),
  },

  args: {
    server: arg({ description: 'Registry host[:port]; Docker Hub when omitted.' }),
  },

  async run(ctx, { flags, args }) {
    const server = args.server ?? DOCKER_HUB_AUTH_KEY;
    if (flags.password !== undefined && flags['password-stdin']) throw new CliError('--password and --password-stdin are mutually exclusive');
    if (!flags.username) throw new CliError('a username is needed: mini-docker login -u NAME [--password-stdin] [SERVER]');
    let password = flags.password;
    if (flags['password-stdin']) {
      password = (await readBody(process.stdin)).toString('utf8').replace(/\r?\n$/, '');
    } else if (flags.password !== undefined) {
      ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
    }
    if (!password) throw new CliError('a password is needed: give --password-stdin (or -p)');
    await ctx.client.json('POST', '/auth', { json: { username: flags.username, password, serveraddress: server } });
    const helper = await saveCredentials(server, flags.username, password);
    if (!helper) ctx.err(`WARNING! Your password will be stored unencrypted in ${dockerConfigPath()}.`);
    ctx.out('Login Succeeded');
  },
});
