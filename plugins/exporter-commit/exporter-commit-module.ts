import { ContainerModule, Driver } from '../../core/plugin-api.js';
import { CommitExporter } from './commit-exporter.js';

/** The commit exporter plugin: one driver, `exporter.v1.commit`. */
export default new ContainerModule((options) => {
  options.bind(Driver).to(CommitExporter).inSingletonScope();
});
