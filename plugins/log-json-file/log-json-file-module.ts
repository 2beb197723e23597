import { ContainerModule, Driver } from '../../core/plugin-api.js';
import { JsonFileLogDriver } from './json-file-log-driver.js';

/** The plugin's one contribution: the json-file log driver, bound under `Driver`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(JsonFileLogDriver).inSingletonScope();
});
