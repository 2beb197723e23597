/** What the web page of the event log is sent (docs/ui.md): plain data, shared by the server and the page. */

/** The limits a container runs with, as the page shows them (only those set). */
export type UiLimits = Readonly<Record<string, string | number>>;

/** One container row as of a point: ps's columns plus what the page draws. */
export interface UiContainer {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly command: string;
  /** Unix seconds. */
  readonly created: number;
  readonly state: string;
  /** ps's STATUS text, relative to the point's reference time (as `replay`). */
  readonly status: string;
  readonly exitCode: number;
  readonly oomKilled: boolean;
  readonly restartCount: number;
  readonly restartPolicy: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly limits: UiLimits;
}

export interface UiImage {
  readonly id: string;
  readonly tags: readonly string[];
  readonly size: number;
  readonly created: string;
}

/** The whole engine as of a point. */
export interface UiState {
  readonly position: number;
  readonly time: string;
  /** The last position of the log (the slider's end). */
  readonly lastPosition: number;
  readonly firstTime: string;
  readonly lastTime: string;
  /** What ps's status texts are relative to (RFC 3339). */
  readonly referenceTime: string;
  readonly live: boolean;
  readonly containers: readonly UiContainer[];
  readonly images: readonly UiImage[];
}

/** One step of a container's life, as its timeline shows it. */
export interface TimelineEntry {
  readonly position: number;
  readonly time: string;
  /** created, started, restarted, start-failed, oom, died, restarting, stop, kill, update, pause, unpause, rename, commit, exec, removed. */
  readonly kind: string;
  /** One line for people: "died (exit 137, ran 2.1 s)". */
  readonly text: string;
  /** The container's status after this step ("removed" after its removal). */
  readonly status: string;
  /** The process's exit code, for a death and for an exec's end (a failed start has none: its command never ran). */
  readonly exitCode?: number;
  /** How long it ran, for a death (milliseconds). */
  readonly ranMs?: number;
  /** The limits in force after this step, on create and update. */
  readonly limits?: UiLimits;
}

/** A stretch of time in one status (the timeline's bar). `to` is the next step, or the point's time. */
export interface TimelineSegment {
  readonly status: string;
  readonly from: string;
  readonly to: string;
}

export interface Timeline {
  readonly id: string;
  readonly name: string;
  readonly position: number;
  readonly entries: readonly TimelineEntry[];
  readonly segments: readonly TimelineSegment[];
}

/** One event in the page's list. */
export interface UiEvent {
  readonly position: number;
  readonly time: string;
  /** The envelope's type (ContainerExited) and Docker's type and action (container, die). */
  readonly type: string;
  readonly scope: string;
  readonly action: string;
  readonly actorId: string;
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
}
