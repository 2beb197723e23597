/**
 * Whether a host port is free, asked of the kernel by binding it for a moment (TCP listen, UDP
 * bind), and a free port chosen by the kernel (port 0) for `-p 80` without a host port.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** Binds hostIp:port (port 0: any) and releases it; resolves with the port, or null when it is in use. */
export function probePort(protocol: 'tcp' | 'udp', hostIp: string, port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const inUse = (e: NodeJS.ErrnoException): void => {
      if (e.code === 'EADDRINUSE' || e.code === 'EACCES') resolve(null);
      else reject(new Error(`cannot check ${protocol} port ${hostIp}:${port}: ${e.message}`));
    };
    if (protocol === 'tcp') {
      const server = createServer();
      server.once('error', inUse);
      server.listen({ host: hostIp, port, exclusive: true }, () => {
        const address = server.address();
        const bound = typeof address === 'object' && address ? address.port : port;
        server.close(() => resolve(bound));
      });
    } else {
      const socket = createSocket({ type: 'udp4' });
      socket.once('error', (e) => {
        socket.close();
        inUse(e);
      });
      socket.bind({ address: hostIp, port, exclusive: true }, () => {
        const bound = socket.address().port;
        socket.close(() => resolve(bound));
      });
    }
  });
}
