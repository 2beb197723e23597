import { ContainerModule } from '../../core/plugin-api.js';
import { Driver } from '../../core/plugin-api.js';
import { NamespaceIsolator } from './namespace-isolator.js';

/** The namespace isolator plugin: one driver, `isolator.v1.namespaces`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(NamespaceIsolator).inSingletonScope();
});
