import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineCommand, flag } from '../lib/command-declaration.js';
import { describeConnection } from '../lib/connection.js';
import { CliError } from '../lib/errors.js';
import type { UiBackend } from '../ui/ui-server.js';

/** `mini-docker ui`: a web page of the event log, live and as of any position, on loopback. */
export default defineCommand({
  summary: 'Serve a web page of the event log: containers now and at any log position, timelines, live updates.',

  description: `Serves a page on loopback (127.0.0.1 by default) that shows the containers and images as of now or as of any log position or time (the fold replay uses), each container's timeline (created, started, oom, died, restarting… with exit codes, durations and limits), the logs around a chosen moment, and the events with the filters events takes. Following the daemon, new events arrive live.

With --log FILE|DIR it shows a copied event log instead (the log file, its directory or a data root, as replay --log), with no daemon: no live updates, logs or stats then. The page is read-only. It listens on loopback only: it shows the whole log to anyone who can reach it.

The address is printed on stdout; the command runs until interrupted.`,

  examples: [
    '<%= config.bin %> ui',
    '<%= config.bin %> ui --listen 127.0.0.1:7070',
    '<%= config.bin %> ui --log /backup/mini-docker/events/events.log',
  ],

  flags: {
    listen: flag.string({ summary: 'Loopback address and port to serve on (port 0 picks a free one).', default: '127.0.0.1:7070' }),
    log: flag.string({ summary: 'Show a copied event log offline (file, its directory, or a data root); no daemon needed.' }),
  },

  async run(ctx, { flags }) {
    const { createUiServer, parseListen } = await import('../ui/ui-server.js');
    let listen: { host: string; port: number };
    try {
      listen = parseListen(flags.listen);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    let backend: UiBackend;
    let what: string;
    if (flags.log !== undefined) {
      const { copiedLogRouter } = await import('../ui/copied-log.js');
      let loaded: Awaited<ReturnType<typeof copiedLogRouter>>;
      try {
        loaded = await copiedLogRouter(flags.log, (m) => ctx.err(`warning: ${m}`));
      } catch (err) {
        throw new CliError(`cannot read the event log ${flags.log}: ${(err as Error).message}`);
      }
      backend = { kind: 'history', router: loaded.router };
      what = `the copied log ${flags.log} (${loaded.events} events)`;
    } else {
      // Reaches (or starts) the daemon first, and checks that it has the page's routes.
      try {
        await ctx.client.json('GET', '/tiny/ui/state', { query: { until: '0' } });
      } catch (err) {
        const message = (err as Error).message;
        throw new CliError(/page not found/.test(message) ? 'the daemon has no /tiny/ui routes: it is older than this CLI; restart mini-dockerd' : message);
      }
      const client = ctx.client;
      backend = {
        kind: 'daemon',
        get: async (path, headers, signal) => {
          const res = await client.request('GET', path, { headers, signal });
          return { status: res.statusCode, contentType: res.headers['content-type'], body: res };
        },
      };
      what = `mini-dockerd at ${describeConnection(client.connection)}`;
    }
    const server = createUiServer(backend);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new CliError(`cannot listen on ${flags.listen}: ${err.code === 'EADDRINUSE' ? 'the port is in use; choose another with --listen 127.0.0.1:PORT' : err.message}`)));
      server.listen(listen.port, listen.host, resolve);
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    ctx.out(`mini-docker ui: http://${host}:${address.port}/ (${what}; Ctrl-C to stop)`);
    await untilInterrupted(server);
  },
});

/** Resolves after SIGINT or SIGTERM, once the server is closed. */
function untilInterrupted(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.closeAllConnections();
      server.close(() => resolve());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
