// Integration (root, the kernel): the bridge driver passes the network.v1 conformance suite
// (test/network-conformance.ts), on a table of its own.
import { randomBytes } from 'node:crypto';
import { BridgeNetworkDriver } from '../../plugins/network-bridge/bridge-network-driver.js';
import { networkConformance } from '../network-conformance.js';
import { silentLogger } from './network-helpers.js';

networkConformance('network.v1.bridge', async () => ({
  driver: new BridgeNetworkDriver({ table: `mini-docker-c${randomBytes(3).toString('hex')}` }),
  context: { dataRoot: '/nonexistent', execRoot: '/nonexistent', stateDir: '/nonexistent', runDir: '/nonexistent', logger: silentLogger },
  subnet: '10.231.16.0/24',
}));
