/**
 * The one entry point plugins import: `import { ContainerModule, injectable, Driver, DriverKinds } from 'tiny-docker/plugin-api'`.
 * It re-exports the engine's own copy of inversify and reflect-metadata so that an installed plugin
 * never brings a second copy (which would break decorator metadata). Plugins declare tiny-docker
 * as a peer dependency; the daemon resolves `tiny-docker` to itself for every plugin it loads.
 */
import 'reflect-metadata';

export { ContainerModule, injectable, inject, multiInject, optional } from 'inversify';
export type { ContainerModuleLoadOptions } from 'inversify';
export * from './plugins/driver.js';
export * from './plugins/kinds.js';
export * from './plugins/distribution.js';
export * from './plugins/volume-driver.js';
export * from './plugins/network-driver.js';
export * from './plugins/log-support.js';
export { Logger as LoggerService } from './plugins/logger.js';
export type * from '../events/index.js';
// Libraries the built-in drivers use and third parties may too: tar (safe extraction, whiteouts) and limits.
export {
  extractTar, readXattrTree, syncFilesystem, TarWriter, writeTar,
  type ExtractOptions, type EntryInterceptor, type InterceptedEntry, type TarHeaderInput, type WalkedEntry, type WriteTarOptions,
} from './archive/index.js';
export { compileSeccomp, parseSecurityOptions, seccompFilterFor, DEFAULT_CAPABILITIES, DEFAULT_SECCOMP_PROFILE } from './security/seccomp-profile.js';
export type { DockerSeccompProfile, SeccompAction, SeccompArgCondition, SeccompFilter, SeccompRule, SecurityOptions } from './security/seccomp-profile.js';
export { CAPABILITY_NAMES, capabilityMask } from './security/capabilities.js';
export { DEFAULT_DEVICE_RULES, deviceAccess } from './security/container-security.js';
export type { ContainerSecurity, DeviceNode, TmpfsMount } from './security/container-security.js';
export { checkLimits, missingMembers, formatBytes, DEFAULT_CPU_PERIOD, MAX_CPU_SHARES, MIN_CPU_SHARES } from './limits/index.js';
