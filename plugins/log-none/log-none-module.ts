import { ContainerModule, Driver } from '../../core/plugin-api.js';
import { NoneLogDriver } from './none-log-driver.js';

/** The plugin's one contribution: the none log driver, bound under `Driver`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(NoneLogDriver).inSingletonScope();
});
