import { InvalidArgumentError } from '../engine/errors.js';
import type { EngineState, VolumeState } from '../state/engine-state.js';
import { findVolume, VOLUME_FILTER_KEYS, volumeMatches, volumeUsers } from '../state/volume-rules.js';
import { checkFilterKeys, parseFilters, queryBool } from './http-params.js';
import { isRecord, optStringMap, optString, parseJsonObject } from './narrow.js';
import type { Router } from './router.js';
import type { RouteDeps } from './route-support.js';

/** A volume as Docker's API shows it (`GET /volumes/{name}`, each of `GET /volumes`); `usage` for `system df`. */
export function presentVolume(v: VolumeState, usage?: { size: number; refCount: number }): Record<string, unknown> {
  return {
    CreatedAt: v.createdAt.replace(/\.\d+Z$/, 'Z'),
    Driver: v.driver,
    Labels: Object.keys(v.labels).length > 0 ? { ...v.labels } : null,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: Object.keys(v.options).length > 0 ? { ...v.options } : null,
    Scope: 'local',
    ...(usage ? { UsageData: { Size: usage.size, RefCount: usage.refCount } } : {}),
  };
}

/** The volumes `volume ls` shows: created ones (not those being created or removed), filtered, by name. */
export function listVolumes(state: EngineState, filters: ReadonlyMap<string, readonly string[]>): VolumeState[] {
  return Object.values(state.volumes)
    .filter((v) => v.status === 'created' && volumeMatches(state, v, filters))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Volumes: list (filters dangling, name, driver, label), create, inspect, remove, prune. */
export function registerVolumeRoutes(router: Router, { engine }: RouteDeps): void {
  router.get('/volumes', ({ req, res }) => {
    const filters = parseFilters(req.query.get('filters'));
    checkFilterKeys(filters, VOLUME_FILTER_KEYS);
    res.json(200, { Volumes: listVolumes(engine.state(), filters).map((v) => presentVolume(v)), Warnings: [] });
  });

  router.post('/volumes/create', async ({ req, res }) => {
    const raw = await req.body();
    const body = raw.length === 0 ? {} : parseJsonObject(raw, 'volume config');
    const driverOpts = body.DriverOpts;
    if (driverOpts !== undefined && driverOpts !== null && !isRecord(driverOpts)) throw new InvalidArgumentError('invalid value for DriverOpts: expected an object of strings');
    const volume = await engine.createVolume({
      name: optString(body, 'Name') ?? '',
      driver: optString(body, 'Driver') || 'local',
      labels: optStringMap(body, 'Labels') ?? {},
      options: optStringMap(body, 'DriverOpts') ?? {},
    });
    res.json(201, presentVolume(volume));
  });

  router.post('/volumes/prune', async ({ req, res }) => {
    const filters = parseFilters(req.query.get('filters'));
    checkFilterKeys(filters, [...VOLUME_FILTER_KEYS, 'all']);
    const pruned = await engine.pruneVolumes(filters);
    res.json(200, { VolumesDeleted: [...pruned.deleted], SpaceReclaimed: pruned.spaceReclaimed });
  });

  router.get('/volumes/{name}', ({ res, params }) => {
    res.json(200, presentVolume(findVolume(engine.state(), params.name)));
  });

  router.delete('/volumes/{name}', async ({ req, res, params }) => {
    await engine.removeVolume(params.name, queryBool(req.query, 'force'));
    res.empty(204);
  });
}

/** `system df`'s Volumes: each volume with its size and the number of containers using it. */
export async function volumesForDiskUsage(state: EngineState, sizeOf: (name: string) => Promise<number>): Promise<Record<string, unknown>[]> {
  return Promise.all(listVolumes(state, new Map()).map(async (v) => presentVolume(v, { size: await sizeOf(v.name).catch(() => -1), refCount: volumeUsers(state, v.name).length })));
}
