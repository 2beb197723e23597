import { ContainerModule, Driver } from '../../core/plugin-api.js';
import { RegistryDistribution } from './registry-distribution.js';

/** The registry plugin: one driver, `distribution.v1.registry`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(RegistryDistribution).inSingletonScope();
});
