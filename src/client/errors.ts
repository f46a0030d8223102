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

export class ZooKeeperError extends Error {
  /** ZooKeeper's numeric error code, e.g. -101. */
  readonly code: number;
  /** The path the failed operation was about, when there is one (client view, chroot stripped). */
  readonly path: string | undefined;
  /** For a failed multi: the per-operation results (see Transaction). */
  results?: unknown[];

  constructor(code: number, path?: string, message?: string) {
    const base = `KeeperErrorCode = ${codeMessage(code)}`;
    super(message ?? (path !== undefined ? `${base} for ${path}` : base));
    this.code = code;
    this.path = path;
    // `.name` is the code's symbolic name ('NoNode', 'NodeExists', ...) so `err.name === 'NoNode'` works.
    this.name = errName(code);
  }
}

export function isZooKeeperError(e: unknown, code?: number): e is ZooKeeperError {
  return e instanceof ZooKeeperError && (code === undefined || e.code === code);
}

/** Errors after which the outcome of a write is unknown and the operation may be retried. */
export function isRecoverable(e: unknown): boolean {
  return e instanceof ZooKeeperError && (e.code === Err.ConnectionLoss || e.code === Err.OperationTimeout || e.code === Err.RequestTimeout);
}
