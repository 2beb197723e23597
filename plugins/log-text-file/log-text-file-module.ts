import { ContainerModule, Driver } from '../../core/plugin-api.js';
import { TextFileLogDriver } from './text-file-log-driver.js';

/** The plugin's one contribution: the text-file log driver, bound under `Driver`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(TextFileLogDriver).inSingletonScope();
});
