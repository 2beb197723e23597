import { ContainerModule, Driver } from '../../core/plugin-api.js';
import { LocalVolumeDriver } from './local-volume-driver.js';

/** The plugin's one contribution: the local volume driver, bound under `Driver`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(LocalVolumeDriver).inSingletonScope();
});
