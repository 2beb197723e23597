import type {
  ContainerCommitting, ContainerCreated, ContainerExited, ContainerKillRequested, ContainerRemoving, ContainerRenamed,
  ContainerStarting, ContainerStopRequested, ExecCreated, ExecStarting, ContainerLimitsUpdated, ExitStatus, Limits, ContainerPaused,
  ContainerUnpaused, RestartPolicy,
} from '../../events/index.js';
import { ConflictError, InvalidArgumentError, NotModifiedError } from '../engine/errors.js';
import type { ContainerState, EngineState, ExecState } from './engine-state.js';
import { containerByName } from './lookup.js';

/**
 * The lifecycle rules, as pure functions from (command, state) to the events to append, or an
 * error. The engine runs them against the fold, appends with the stream version they read, and
 * only then lets drivers act; tests read "given events, when command, then events or error".
 */

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function validateName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new InvalidArgumentError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
}

export function decideCreate(state: EngineState, data: ContainerCreated['data']): ContainerCreated[] {
  validateName(data.name);
  const taken = containerByName(state, data.name);
  if (taken) {
    throw new ConflictError(`Conflict. The container name "/${data.name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
  if (state.containers[data.id]) throw new ConflictError(`container id ${data.id} already exists`);
  return [{ type: 'ContainerCreated', data }];
}

/**
 * Start is allowed from created, exited or restarting; a running container answers 304. The event
 * is the intent: the start's process manager (core/engine/start-container.ts) then runs the drivers.
 */
export function decideStart(c: ContainerState, byPolicy = false): ContainerStarting[] {
  if (c.status === 'running') throw new NotModifiedError(`container ${c.id} is already running`);
  if (c.status === 'paused') throw new ConflictError(`cannot start a paused container, try unpause instead`);
  if (c.status === 'removing') throw new ConflictError(`container ${c.id} is marked for removal and cannot be started`);
  if (c.starting) throw new ConflictError(`container ${c.id} is already starting`);
  return [{ type: 'ContainerStarting', data: { id: c.id, ...(byPolicy ? { restart: true } : {}) } }];
}

/**
 * The one rule for recording an exit: a container whose process ran (running or paused) gets one
 * ContainerExited per run; anything else (already recorded, never ran) gets nothing.
 */
export function decideExit(c: ContainerState | undefined, status: ExitStatus): ContainerExited[] {
  if (!c || (c.status !== 'running' && c.status !== 'paused')) return [];
  return [{ type: 'ContainerExited', data: { id: c.id, name: c.name, exitCode: status.exitCode, signal: status.signal, oomKilled: status.oomKilled, finishedAt: status.finishedAt } }];
}

export function decideStop(c: ContainerState, signal: string, timeoutSeconds: number): ContainerStopRequested[] {
  // Stopping a restarting container cancels the restart.
  if (c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting') throw new NotModifiedError(`container ${c.id} is not running`);
  return [{ type: 'ContainerStopRequested', data: { id: c.id, signal, timeoutSeconds } }];
}

export function decideKill(c: ContainerState, signal: string): ContainerKillRequested[] {
  if (c.status === 'restarting') throw new ConflictError(`Container ${c.id} is restarting, wait until the container is running`);
  if (c.status !== 'running' && c.status !== 'paused') throw new ConflictError(`container ${c.id} is not running`);
  return [{ type: 'ContainerKillRequested', data: { id: c.id, signal } }];
}

/** The intent to remove (a running container is killed first, by the caller, when forced); `removeVolumes`: its anonymous volumes go too (rm -v). */
export function decideRemove(c: ContainerState, force: boolean, removeVolumes = false): ContainerRemoving[] {
  if (c.status === 'restarting' && !force) {
    throw new ConflictError(`You cannot remove a restarting container ${c.id}. Stop the container before attempting removal or force remove`);
  }
  if ((c.status === 'running' || c.status === 'paused') && !force) {
    throw new ConflictError(`cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`);
  }
  if (c.starting) throw new ConflictError(`container ${c.id} is starting: wait until it started, then remove it`);
  return [{ type: 'ContainerRemoving', data: { id: c.id, force, ...(removeVolumes ? { removeVolumes: true } : {}) } }];
}

export function decideRename(state: EngineState, c: ContainerState, newName: string): ContainerRenamed[] {
  const name = newName.startsWith('/') ? newName.slice(1) : newName;
  validateName(name);
  if (name === c.name) throw new ConflictError(`Renaming a container with the same name as its current name`);
  const taken = containerByName(state, name);
  if (taken) throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`);
  return [{ type: 'ContainerRenamed', data: { id: c.id, oldName: c.name, newName: name } }];
}

export function decideUpdate(c: ContainerState, limits: Limits, restartPolicy?: RestartPolicy | null): ContainerLimitsUpdated[] {
  if (c.status === 'removing') throw new ConflictError(`container ${c.id} is marked for removal`);
  if (restartPolicy && c.hostConfig.AutoRemove) throw new ConflictError('Restart policy cannot be updated because AutoRemove is enabled for the container');
  return [{ type: 'ContainerLimitsUpdated', data: { id: c.id, limits, ...(restartPolicy !== undefined ? { restartPolicy } : {}) } }];
}

export function decidePause(c: ContainerState): ContainerPaused[] {
  if (c.status === 'paused') throw new ConflictError(`container ${c.id} is already paused`);
  if (c.status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
  return [{ type: 'ContainerPaused', data: { id: c.id } }];
}

export function decideUnpause(c: ContainerState): ContainerUnpaused[] {
  if (c.status !== 'paused') throw new ConflictError(`container ${c.id} is not paused`);
  return [{ type: 'ContainerUnpaused', data: { id: c.id } }];
}

export function decideExecCreate(c: ContainerState, data: ExecCreated['data']): ExecCreated[] {
  if (c.status === 'paused') throw new ConflictError(`container ${c.id} is paused, unpause the container before exec`);
  if (c.status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
  if (data.cmd.length === 0) throw new InvalidArgumentError(`no exec command specified`);
  return [{ type: 'ExecCreated', data }];
}

/** Starting an exec: once, in a running container; the event is the intent. */
export function decideExecStart(c: ContainerState, x: ExecState): ExecStarting[] {
  if (x.starting || x.running || x.exitCode !== null) throw new ConflictError(`exec ${x.execId} has already been started`);
  if (c.status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
  return [{ type: 'ExecStarting', data: { id: c.id, execId: x.execId } }];
}

/** A commit at a time per container; `paused`: it freezes the container while its layer is read. */
export function decideCommit(c: ContainerState, paused: boolean): ContainerCommitting[] {
  if (c.status === 'removing') throw new ConflictError(`container ${c.id} is marked for removal`);
  if (c.committing) throw new ConflictError(`container ${c.id} is already being committed`);
  return [{ type: 'ContainerCommitting', data: { id: c.id, paused } }];
}
