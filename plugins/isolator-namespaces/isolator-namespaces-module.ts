import { ContainerModule } from 'inversify';
import { Driver } from '../../core/plugins/driver.js';
import { NamespaceIsolator } from './namespace-isolator.js';

/** The namespace isolator plugin: one driver, `isolator.v1.namespaces`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(NamespaceIsolator).inSingletonScope();
});
