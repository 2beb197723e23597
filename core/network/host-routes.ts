/** The host's routes as subnets, for the pool choice (ipam.ts `chooseSubnet`): read from /proc/net/route. */
import { readFile } from 'node:fs/promises';
import { parseProcNetRoute } from './ipam.js';
import type { Subnet } from './ipv4.js';

export async function readHostRoutes(path = '/proc/net/route'): Promise<Subnet[]> {
  return parseProcNetRoute(await readFile(path, 'utf8'));
}
