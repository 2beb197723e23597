/** The plugin's one contribution: the bridge network driver, bound as a Driver. */
import { ContainerModule } from '../../core/plugin-api.js';
import { Driver } from '../../core/plugin-api.js';
import { BridgeNetworkDriver } from './bridge-network-driver.js';

export default new ContainerModule((options) => {
  options.bind(Driver).to(BridgeNetworkDriver).inSingletonScope();
});
