import { ContainerModule, Driver } from '../../core/plugin-api.js';
import { OverlayfsStorage } from './overlayfs-storage.js';

/** The overlayfs storage plugin: one driver, `storage.v1.overlayfs`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(OverlayfsStorage).inSingletonScope();
});
