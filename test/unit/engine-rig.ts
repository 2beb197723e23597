/**
 * The real engine for unit tests: `ContainerEngine` with its handlers, process managers, exit
 * recorder and reconciler, the real image service (its content store in a temporary folder, the
 * busybox image made from the host's /bin/busybox as the daemon makes it), on the in-memory event
 * log, with drivers that need no kernel (test/memory-drivers.ts), the real cgroup limiter on a
 * fake cgroupfs, the real log drivers and exporter, and the real local volume driver (in the rig's folder). The rules a test sees are the engine's own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { ContainerEngine } from '../../core/engine/container-engine.js';
import type { CreateContainerRequest } from '../../core/engine/engine.js';
import { EventStore } from '../../core/engine/event-store.js';
import { StoreImageService } from '../../core/engine/store-image-service.js';
import type { EventLog } from '../../core/eventlog/event-log.js';
import { MemoryEventLog } from '../../core/eventlog/memory-event-log.js';
import type { Driver } from '../../core/plugins/driver.js';
import { PluginRegistry } from '../../core/plugins/plugin-registry.js';
import { CgroupLimiter } from '../../plugins/limiter-cgroups/cgroup-limiter.js';
import { CommitExporter } from '../../plugins/exporter-commit/commit-exporter.js';
import { LocalVolumeDriver } from '../../plugins/volume-local/local-volume-driver.js';
import { JsonFileLogDriver } from '../../plugins/log-json-file/json-file-log-driver.js';
import { NoneLogDriver } from '../../plugins/log-none/none-log-driver.js';
import { FakeCgroup2, fakeHost } from '../fixtures/fake-cgroup2.js';
import { memoryLogger } from '../limiter-conformance.js';
import { MemoryStorage, ScriptedIsolator } from '../memory-drivers.js';

export interface EngineRig {
  readonly engine: ContainerEngine;
  readonly store: EventStore;
  readonly storage: MemoryStorage;
  readonly isolator: ScriptedIsolator;
  /** The cgroupfs the real cgroup limiter works on (a fake one: test/fixtures/fake-cgroup2.ts). */
  readonly cgroups: FakeCgroup2;
  readonly logs: ReturnType<typeof memoryLogger>;
  readonly dir: string;
  /** Creates and starts a busybox container named `name` running `cmd`; its id. */
  run(name: string, cmd: string[], request?: Partial<Omit<CreateContainerRequest, 'name' | 'image'>>): Promise<string>;
  /** Resolves once the container has this status in the fold. */
  untilStatus(id: string, status: string): Promise<void>;
  /** Lets go of the processes and removes the temporary folder. */
  dispose(): Promise<void>;
}

export interface RigOptions {
  readonly log?: EventLog;
  readonly storage?: MemoryStorage;
  readonly isolator?: ScriptedIsolator;
}

export async function engineRig(options: RigOptions = {}): Promise<EngineRig> {
  const dir = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'engine-rig-'));
  const storage = options.storage ?? new MemoryStorage();
  const isolator = options.isolator ?? new ScriptedIsolator();
  const store = new EventStore(options.log ?? new MemoryEventLog());
  await store.load();
  const logs = memoryLogger();
  const registry = new PluginRegistry();
  const cgroups = await FakeCgroup2.create();
  const limiter = new CgroupLimiter({
    root: cgroups.root, files: cgroups, host: fakeHost, readSelfCgroup: () => '0::/user.slice/daemon.service\n', isRoot: () => true,
    kill: (pid) => void cgroups.killPid(pid),
  });
  const drivers: Driver[] = [storage, isolator, limiter, new JsonFileLogDriver(), new NoneLogDriver(), new CommitExporter(), new LocalVolumeDriver()];
  await registry.initialise(drivers.map((driver) => ({ driver, packageName: 'test' })), async (d) => ({
    dataRoot: dir, execRoot: dir, stateDir: join(dir, d.id), runDir: join(dir, 'run', d.id), logger: logs,
  }));
  for (const r of registry.all()) if (r.status !== 'ok') throw new Error(`${r.driver.id}: ${r.status} ${r.reason ?? ''}`);
  const config = { dataRoot: dir, execRoot: dir, socketPath: join(dir, 'unused.sock'), pidFile: join(dir, 'unused.pid'), packageRoot: dir, version: '0.1.0-test', builtinBusybox: true };
  const images = new StoreImageService(store, registry, config, logs);
  await images.ensureBuiltins();
  const engine = new ContainerEngine(store, registry, images, logs, { id: 'TEST:ENGINE', version: '0.1.0-test', dataRoot: dir, execRoot: dir });

  const untilStatus = async (id: string, status: string): Promise<void> => {
    if (store.state().containers[id]?.status === status) return;
    await firstValueFrom(store.events.pipe(filter(() => store.state().containers[id]?.status === status)));
  };
  return {
    engine, store, storage, isolator, cgroups, logs, dir, untilStatus,
    async run(name, cmd, request = {}) {
      const { id } = await engine.createContainer({ ...request, name, image: 'busybox', config: { ...request.config, Cmd: cmd }, hostConfig: request.hostConfig ?? {} });
      await engine.startContainer(id);
      return id;
    },
    async dispose() {
      await engine.shutdown();
      await rm(dir, { recursive: true, force: true });
      await rm(cgroups.root, { recursive: true, force: true });
    },
  };
}

/** The containers `seededRig` makes, by name. */
export interface Seeded {
  /** `sleep 1000`, running, with a label, `-m 32m --pids-limit 20`, and three chunks of output in its log. */
  readonly web: string;
  /** Exited 137, OOM-killed. */
  readonly old: string;
  /** `sh` with a TTY and stdin, running. */
  readonly term: string;
}

/**
 * A rig with three containers made through the engine, in this order: old (run, then killed by
 * the OOM killer), web (running, its output `line 1`, `oops 1` on stderr, `line 2\nline 3`), term
 * (running `sh -it`).
 */
export async function seededRig(options: RigOptions = {}): Promise<EngineRig & { readonly ids: Seeded }> {
  const rig = await engineRig(options);
  const old = await rig.run('old', ['sleep', '100']);
  rig.isolator.oomKill(old);
  await rig.untilStatus(old, 'exited');
  const web = await rig.run('web', ['sleep', '1000'], { config: { Labels: { app: 'web' } }, hostConfig: { Memory: 32 * 1024 * 1024, PidsLimit: 20 } });
  const logged = once(rig, web, 3);
  rig.isolator.print(web, 'stdout', 'line 1\n');
  rig.isolator.print(web, 'stderr', 'oops 1\n');
  rig.isolator.print(web, 'stdout', 'line 2\nline 3\n');
  await logged;
  const term = await rig.run('term', ['sh'], { config: { Tty: true, OpenStdin: true } });
  return { ...rig, ids: { web, old, term } };
}

/** Resolves once `count` entries of the container's output are stored in its log. */
async function once(rig: EngineRig, id: string, count: number): Promise<void> {
  for (;;) {
    let stored = 0;
    for await (const entry of rig.engine.logs(id, { stdout: true, stderr: true })) if (entry) stored++;
    if (stored >= count) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}
