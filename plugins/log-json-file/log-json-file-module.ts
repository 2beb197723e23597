import { ContainerModule, Driver } from '../../core/plugin-api.js';
import { JsonFileLogDriver } from './json-file-log-driver.js';
import { NoneLogDriver } from './none-log-driver.js';

/** The plugin's one contribution: the json-file and none log drivers, bound under `Driver`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(JsonFileLogDriver).inSingletonScope();
  options.bind(Driver).to(NoneLogDriver).inSingletonScope();
});
