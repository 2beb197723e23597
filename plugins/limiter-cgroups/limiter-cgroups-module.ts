/** The plugin's one contribution: the cgroup limiter, bound as a Driver. */
import { ContainerModule } from 'inversify';
import { Driver } from '../../core/plugins/driver.js';
import { CgroupLimiter } from './cgroup-limiter.js';

export default new ContainerModule((options) => {
  options.bind(Driver).to(CgroupLimiter).inSingletonScope();
});
