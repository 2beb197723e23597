import { existsSync } from 'node:fs';
import type { ContainerConfig, HostConfig } from '../../events/index.js';
import { containerStream } from '../../events/index.js';
import { DriverKinds } from '../plugins/kinds.js';
import { decideCreate } from '../state/decide.js';
import { containerByName } from '../state/lookup.js';
import { parseRestartPolicy } from '../state/restart-policy.js';
import { checkSecurity } from '../security/container-security.js';
import { parseSecurityOptions } from '../security/seccomp-profile.js';
import { checkUsernsMode, usernsFor } from '../security/userns-remap.js';
import { planVolumes, volumesOfContainer, withContainerVolumes } from './container-volumes.js';
import { networkingForCreate } from './network-commands.js';
import type { CreateContainerRequest, ProgressReporter } from './engine.js';
import type { EngineContext } from './engine-context.js';
import { InvalidArgumentError } from './errors.js';
import { mergeEnv, pickLimits } from './limits.js';
import { generateName, newId } from './names.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * create: the image resolved (a tarball imported once), the container's config merged from the
 * image's and the request's, every option checked by the driver that will use it (log options,
 * limits, binds) before anything exists; then ContainerCreated. No driver acts yet.
 */
export async function createContainer(ctx: EngineContext, request: CreateContainerRequest, progress?: ProgressReporter): Promise<{ id: string; warnings: readonly string[] }> {
  const image = await ctx.images.resolveForCreate(request.image, progress);
  const state = ctx.state();
  const id = newId();
  const name = request.name ? request.name.replace(/^\//, '') : generateName((n) => containerByName(state, n) !== undefined);
  const own = request.config;
  // `--entrypoint ""` arrives as [""]: it clears the image's entrypoint, as in Docker.
  const ownEntrypoint = own.Entrypoint && own.Entrypoint.length === 1 && own.Entrypoint[0] === '' ? [] : own.Entrypoint;
  const entrypoint = ownEntrypoint !== undefined && ownEntrypoint !== null ? ownEntrypoint : image.config.Entrypoint;
  const ownCmd = own.Cmd && own.Cmd.length > 0 ? own.Cmd : null;
  // As in Docker: a new entrypoint (an empty one too) drops the image's Cmd.
  const cmd = ownCmd ?? (ownEntrypoint ? [] : image.config.Cmd ?? []);
  const workdir = own.WorkingDir ?? '';
  if (workdir !== '' && !workdir.startsWith('/')) throw new InvalidArgumentError(`the working directory '${workdir}' is invalid, it needs to be an absolute path`);
  if ((entrypoint ?? []).length === 0 && cmd.length === 0) throw new InvalidArgumentError('No command specified');
  const hostname = own.Hostname && own.Hostname !== '' ? own.Hostname : id.slice(0, 12);
  const env = mergeEnv(image.config.Env.length > 0 ? image.config.Env : [`PATH=${DEFAULT_PATH}`], own.Env ?? []);
  const config: ContainerConfig = {
    Cmd: [...cmd],
    Entrypoint: entrypoint && entrypoint.length > 0 ? [...entrypoint] : null,
    Env: env,
    WorkingDir: own.WorkingDir || image.config.WorkingDir || '',
    User: own.User || image.config.User || '',
    Hostname: hostname,
    Tty: own.Tty ?? false,
    OpenStdin: own.OpenStdin ?? false,
    StdinOnce: own.StdinOnce ?? false,
    AttachStdin: own.AttachStdin ?? false,
    AttachStdout: own.AttachStdout ?? false,
    AttachStderr: own.AttachStderr ?? false,
    Labels: { ...image.config.Labels, ...(own.Labels ?? {}) },
    // As Docker: the image's exposed ports and the container's own (-p, --expose) together.
    ...(own.ExposedPorts || image.config.ExposedPorts ? { ExposedPorts: { ...(image.config.ExposedPorts ?? {}), ...(own.ExposedPorts ?? {}) } } : {}),
  };
  const limits = pickLimits(request.hostConfig);
  const logType = request.hostConfig.LogConfig?.Type || 'json-file';
  const logOptions = request.hostConfig.LogConfig?.Config ?? {};
  const driver = ctx.logDriver(logType);
  try {
    driver.validateOptions(logOptions);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  if (Object.keys(limits).length > 0) {
    const limiter = ctx.limiter();
    if (!limiter) throw new InvalidArgumentError(`resource limits are not supported on this host: ${ctx.registry.whyMissing(DriverKinds.limiter)}`);
    try {
      limiter.validate(limits);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  }
  // Refuses what cannot be mounted, before anything exists; --volumes-from names containers that must exist.
  const { volumes: planned, inheritedBinds } = planVolumes(request.hostConfig, image, (ref) => volumesOfContainer(ctx, ref));
  let caps: { capAdd: string[]; capDrop: string[] };
  try {
    parseSecurityOptions(request.hostConfig.SecurityOpt ?? []); // a bad profile fails create, not a later start
    caps = checkSecurity(request.hostConfig);
    checkUsernsMode(request.hostConfig.UsernsMode ?? '');
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  const networking = networkingForCreate(ctx, request.hostConfig, request.endpointsConfig);
  const restartPolicy = parseRestartPolicy(request.hostConfig.RestartPolicy?.Name, request.hostConfig.RestartPolicy?.MaximumRetryCount);
  if (restartPolicy && request.hostConfig.AutoRemove) throw new InvalidArgumentError('Conflicting options: --restart and --rm (a restart policy and AutoRemove)');
  // As Docker: a missing host folder of `-v` is made on start; one of `--mount` is an error now.
  for (const m of request.hostConfig.Mounts ?? []) {
    if (m.Type === 'bind' && !existsSync(m.Source)) throw new InvalidArgumentError(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
  }
  const hostConfig: HostConfig = {
    ...limits,
    AutoRemove: request.hostConfig.AutoRemove ?? false,
    LogConfig: { Type: logType, Config: { ...logOptions } },
    ...(request.hostConfig.ConsoleSize ? { ConsoleSize: request.hostConfig.ConsoleSize } : {}),
    ...(request.hostConfig.Binds?.length || inheritedBinds.length > 0 ? { Binds: [...(request.hostConfig.Binds ?? []), ...inheritedBinds] } : {}),
    ...(request.hostConfig.VolumesFrom?.length ? { VolumesFrom: [...request.hostConfig.VolumesFrom] } : {}),
    ...(request.hostConfig.SecurityOpt?.length ? { SecurityOpt: [...request.hostConfig.SecurityOpt] } : {}),
    ...(caps.capAdd.length ? { CapAdd: caps.capAdd } : {}),
    ...(caps.capDrop.length ? { CapDrop: caps.capDrop } : {}),
    ...(request.hostConfig.Privileged ? { Privileged: true } : {}),
    ...(request.hostConfig.ReadonlyRootfs ? { ReadonlyRootfs: true } : {}),
    ...(request.hostConfig.Tmpfs && Object.keys(request.hostConfig.Tmpfs).length ? { Tmpfs: { ...request.hostConfig.Tmpfs } } : {}),
    ...(request.hostConfig.Devices?.length ? { Devices: request.hostConfig.Devices.map((d) => ({ ...d })) } : {}),
    ...(request.hostConfig.UsernsMode ? { UsernsMode: request.hostConfig.UsernsMode } : {}),
    ...(request.hostConfig.Mounts?.length ? { Mounts: request.hostConfig.Mounts.map((m) => ({ ...m })) } : {}),
    ...(restartPolicy ? { RestartPolicy: restartPolicy } : {}),
    ...networking.hostConfig,
  };
  const data = {
    id, name, image: { ref: request.image, id: image.id }, config, hostConfig,
    ...(networking.endpointsConfig ? { endpointsConfig: networking.endpointsConfig } : {}),
  };
  decideCreate(state, data); // a taken name is refused before any volume is made
  const userns = usernsFor(hostConfig.UsernsMode, ctx.infoBase.usernsRemap ?? null);
  await withContainerVolumes(ctx, id, image, planned, userns, async (volumes) => {
    const events = decideCreate(ctx.state(), { ...data, ...(volumes.length > 0 ? { volumes } : {}) });
    await ctx.store.append(containerStream(id), events, 'no-stream');
  });
  return { id, warnings: networking.warnings };
}
