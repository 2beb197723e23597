/** The plugin's one contribution: the cgroup limiter, bound as a Driver. */
import { ContainerModule } from '../../core/plugin-api.js';
import { Driver } from '../../core/plugin-api.js';
import { CgroupLimiter } from './cgroup-limiter.js';

export default new ContainerModule((options) => {
  options.bind(Driver).to(CgroupLimiter).inSingletonScope();
});
