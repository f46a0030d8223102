// Typed errors for client operations. Every failure a caller can see carries ZooKeeper's numeric
// error code (KeeperException.Code) so callers can switch on `.code` or on the readable `.name`.
import { Err, errName } from '../protocol/constants.js';

/** Messages as the Java client words them (KeeperException.getCodeMessage), so zk-cli can print them. */
const codeMessages: Record<number, string> = {
  [Err.OK]: 'ok',
  [Err.SystemError]: 'SystemError',
  [Err.RuntimeInconsistency]: 'RuntimeInconsistency',
  [Err.DataInconsistency]: 'DataInconsistency',
  [Err.ConnectionLoss]: 'ConnectionLoss',
  [Err.MarshallingError]: 'MarshallingError',
  [Err.Unimplemented]: 'Unimplemented',
  [Err.OperationTimeout]: 'OperationTimeout',
  [Err.BadArguments]: 'BadArguments',
  [Err.NewConfigNoQuorum]: 'NewConfigNoQuorum',
  [Err.ReconfigInProgress]: 'ReconfigInProgress',
  [Err.APIError]: 'APIError',
  [Err.NoNode]: 'NoNode',
  [Err.NoAuth]: 'NoAuth',
  [Err.BadVersion]: 'BadVersion',
  [Err.NoChildrenForEphemerals]: 'NoChildrenForEphemerals',
  [Err.NodeExists]: 'NodeExists',
  [Err.NotEmpty]: 'Directory not empty',
  [Err.SessionExpired]: 'Session expired',
  [Err.InvalidCallback]: 'Invalid callback',
  [Err.InvalidACL]: 'InvalidACL',
  [Err.AuthFailed]: 'AuthFailed',
  [Err.SessionMoved]: 'Session moved',
  [Err.NotReadOnly]: 'Not a read-only call',
  [Err.EphemeralOnLocalSession]: 'Ephemeral node on local session',
  [Err.NoWatcher]: 'No such watcher',
  [Err.RequestTimeout]: 'Request timeout',
  [Err.ReconfigDisabled]: 'Reconfig is disabled',
  [Err.SessionClosedRequireSaslAuth]: 'Session closed because client failed to authenticate',
  [Err.QuotaExceeded]: 'Quota has exceeded',
  [Err.ThrottledOp]: 'Op throttled due to high load',
  [Err.UnknownSession]: 'Unknown session',
};

export function codeMessage(code: number): string {
  return codeMessages[code] ?? `Unknown error ${code}`;
}

/**
 * Codes after which repeating the same request may succeed: the outcome is unknown (connection
 * lost, client-side timeout) or the server asked us to come back later. These are Curator's
 * RetryLoop.shouldRetry codes, except SessionExpired: Curator retries it because it replaces the
 * ZooKeeper handle, whereas one of our clients is one session and stays expired.
 */
const retryableCodes = new Set<number>([
  Err.ConnectionLoss,
  Err.OperationTimeout,
  Err.RequestTimeout,
  Err.SessionMoved,
  Err.NewConfigNoQuorum,
  Err.ThrottledOp,
]);

/** Constructors of the per-code subclasses, filled in below. */
const byCode = new Map<number, new (path?: string, message?: string) => ZooKeeperError>();

/**
 * Base of every ZooKeeper failure. `new ZooKeeperError(code, ...)` builds the subclass for that
 * code (so `new ZooKeeperError(Err.NoNode) instanceof NoNodeError`), and an unknown code stays a
 * plain ZooKeeperError.
 */
export class ZooKeeperError extends Error {
  /** ZooKeeper's numeric error code, e.g. -101. */
  readonly code!: number;
  /** The path the failed operation was about, when there is one (client view, chroot stripped). */
  readonly path!: string | undefined;
  /** For a failed multi: the per-operation results (see Transaction). */
  results?: unknown[];

  constructor(code: number, path?: string, message?: string) {
    const Sub = byCode.get(code);
    if (new.target === ZooKeeperError && Sub) {
      // Returning another object from a constructor is how callers that only know the code still
      // get the precise class; the subclass's own super() call takes the branch below.
      // eslint-disable-next-line no-constructor-return
      return new Sub(path, message);
    }
    const base = `KeeperErrorCode = ${codeMessage(code)}`;
    super(message ?? (path !== undefined ? `${base} for ${path}` : base));
    this.code = code;
    this.path = path;
    // `.name` is the code's symbolic name ('NoNode', 'NodeExists', ...) so `err.name === 'NoNode'` works.
    this.name = errName(code);
  }

  /** True when the same request may succeed if sent again (see `retryableCodes`). */
  get isRetryable(): boolean {
    return retryableCodes.has(this.code);
  }
}

// One class per code of Err (KeeperException's nested classes, with Java's names). Each takes the
// path and message only; the code is implied. Registered in `byCode` so the base constructor finds it.
export class SystemError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.SystemError, path, message);
  }
}
export class RuntimeInconsistencyError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.RuntimeInconsistency, path, message);
  }
}
export class DataInconsistencyError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.DataInconsistency, path, message);
  }
}
export class ConnectionLossError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.ConnectionLoss, path, message);
  }
}
export class MarshallingError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.MarshallingError, path, message);
  }
}
export class UnimplementedError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.Unimplemented, path, message);
  }
}
export class OperationTimeoutError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.OperationTimeout, path, message);
  }
}
export class BadArgumentsError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.BadArguments, path, message);
  }
}
export class UnknownSessionError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.UnknownSession, path, message);
  }
}
export class NewConfigNoQuorumError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.NewConfigNoQuorum, path, message);
  }
}
export class ReconfigInProgressError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.ReconfigInProgress, path, message);
  }
}
export class APIError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.APIError, path, message);
  }
}
export class NoNodeError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.NoNode, path, message);
  }
}
export class NoAuthError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.NoAuth, path, message);
  }
}
export class BadVersionError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.BadVersion, path, message);
  }
}
export class NoChildrenForEphemeralsError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.NoChildrenForEphemerals, path, message);
  }
}
export class NodeExistsError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.NodeExists, path, message);
  }
}
export class NotEmptyError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.NotEmpty, path, message);
  }
}
export class SessionExpiredError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.SessionExpired, path, message);
  }
}
export class InvalidCallbackError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.InvalidCallback, path, message);
  }
}
export class InvalidACLError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.InvalidACL, path, message);
  }
}
export class AuthFailedError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.AuthFailed, path, message);
  }
}
export class SessionMovedError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.SessionMoved, path, message);
  }
}
export class NotReadOnlyError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.NotReadOnly, path, message);
  }
}
export class EphemeralOnLocalSessionError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.EphemeralOnLocalSession, path, message);
  }
}
export class NoWatcherError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.NoWatcher, path, message);
  }
}
export class RequestTimeoutError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.RequestTimeout, path, message);
  }
}
export class ReconfigDisabledError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.ReconfigDisabled, path, message);
  }
}
export class SessionClosedRequireSaslAuthError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.SessionClosedRequireSaslAuth, path, message);
  }
}
export class QuotaExceededError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.QuotaExceeded, path, message);
  }
}
export class ThrottledOpError extends ZooKeeperError {
  constructor(path?: string, message?: string) {
    super(Err.ThrottledOp, path, message);
  }
}
for (const [code, C] of [
  [Err.SystemError, SystemError],
  [Err.RuntimeInconsistency, RuntimeInconsistencyError],
  [Err.DataInconsistency, DataInconsistencyError],
  [Err.ConnectionLoss, ConnectionLossError],
  [Err.MarshallingError, MarshallingError],
  [Err.Unimplemented, UnimplementedError],
  [Err.OperationTimeout, OperationTimeoutError],
  [Err.BadArguments, BadArgumentsError],
  [Err.UnknownSession, UnknownSessionError],
  [Err.NewConfigNoQuorum, NewConfigNoQuorumError],
  [Err.ReconfigInProgress, ReconfigInProgressError],
  [Err.APIError, APIError],
  [Err.NoNode, NoNodeError],
  [Err.NoAuth, NoAuthError],
  [Err.BadVersion, BadVersionError],
  [Err.NoChildrenForEphemerals, NoChildrenForEphemeralsError],
  [Err.NodeExists, NodeExistsError],
  [Err.NotEmpty, NotEmptyError],
  [Err.SessionExpired, SessionExpiredError],
  [Err.InvalidCallback, InvalidCallbackError],
  [Err.InvalidACL, InvalidACLError],
  [Err.AuthFailed, AuthFailedError],
  [Err.SessionMoved, SessionMovedError],
  [Err.NotReadOnly, NotReadOnlyError],
  [Err.EphemeralOnLocalSession, EphemeralOnLocalSessionError],
  [Err.NoWatcher, NoWatcherError],
  [Err.RequestTimeout, RequestTimeoutError],
  [Err.ReconfigDisabled, ReconfigDisabledError],
  [Err.SessionClosedRequireSaslAuth, SessionClosedRequireSaslAuthError],
  [Err.QuotaExceeded, QuotaExceededError],
  [Err.ThrottledOp, ThrottledOpError],
] as const) {
  byCode.set(code, C);
}

export type ZooKeeperErrorClass = new (path?: string, message?: string) => ZooKeeperError;

/** The subclass for `code` (undefined for a code this client does not know). */
export function errorClassFor(code: number): ZooKeeperErrorClass | undefined {
  return byCode.get(code);
}

export function isZooKeeperError(e: unknown, code?: number): e is ZooKeeperError {
  return e instanceof ZooKeeperError && (code === undefined || e.code === code);
}

/** True for a ZooKeeperError whose request may succeed if repeated (`isRetryable`). */
export function isRetryable(e: unknown): boolean {
  return e instanceof ZooKeeperError && e.isRetryable;
}

/** Errors after which the outcome of a write is unknown and the operation may be retried. */
export function isRecoverable(e: unknown): boolean {
  return e instanceof ZooKeeperError && (e.code === Err.ConnectionLoss || e.code === Err.OperationTimeout || e.code === Err.RequestTimeout);
}
