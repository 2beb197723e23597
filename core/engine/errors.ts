/**
 * Errors the engine raises on purpose. Each carries the HTTP status the API answers with, so the
 * API layer maps them without knowing the engine, and a one-line message a person can act on.
 */
export abstract class EngineError extends Error {
  abstract readonly status: number;
}

export class NotFoundError extends EngineError {
  readonly status = 404;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * A network a container's start needs is gone (removed while it was stopped, or the one it named
 * at create no longer exists): dockerd 20.10 answers the start with a 404 carrying the lookup's
 * message and records State.ExitCode 128 when it was 0. Only these two cases: another lookup
 * failing at start (a volume plugin) is a plain failed start.
 */
export class NetworkGoneError extends NotFoundError {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkGoneError';
  }
}

export class ConflictError extends EngineError {
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The request is understood and refused for what it would do (cp into a read-only root, removing a pre-defined network): HTTP 403. */
export class ForbiddenError extends EngineError {
  readonly status = 403;
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

export class InvalidArgumentError extends EngineError {
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}

/** The request changed nothing (start of a running container, stop of a stopped one): HTTP 304. */
export class NotModifiedError extends EngineError {
  readonly status = 304;
  constructor(message: string) {
    super(message);
    this.name = 'NotModifiedError';
  }
}

/** The container could not start; `exitCode` is what `run` exits with (125, 126 or 127). */
export class StartFailedError extends EngineError {
  readonly status = 400;
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'StartFailedError';
  }
}

export class NotImplementedError extends EngineError {
  readonly status = 501;
  constructor(message: string) {
    super(message);
    this.name = 'NotImplementedError';
  }
}

