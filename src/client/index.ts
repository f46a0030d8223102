// Public surface of the ZooKeeper client.
export { ZooKeeper } from './ZooKeeper.js';
export type {
  ZooKeeperOptions,
  ZooKeeperEvents,
  SessionState,
  ConnectionStateName,
  ConnectedInfo,
  DataResult,
  ChildrenResult,
  OpOptions,
} from './ZooKeeper.js';
export { ExponentialBackoffRetry, RetryNTimes, RetryOneTime, RetryUntilElapsed, RetryForever } from './RetryPolicy.js';
export type { RetryPolicy } from './RetryPolicy.js';
export { sleep, isAbortError, pushIterator } from './abort.js';
export type { AbortOptions } from './abort.js';
export {
  ZooKeeperError,
  isZooKeeperError,
  isRetryable,
  isRecoverable,
  codeMessage,
  errorClassFor,
  SystemError,
  RuntimeInconsistencyError,
  DataInconsistencyError,
  ConnectionLossError,
  MarshallingError,
  UnimplementedError,
  OperationTimeoutError,
  BadArgumentsError,
  UnknownSessionError,
  NewConfigNoQuorumError,
  ReconfigInProgressError,
  APIError,
  NoNodeError,
  NoAuthError,
  BadVersionError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NotEmptyError,
  SessionExpiredError,
  InvalidCallbackError,
  InvalidACLError,
  AuthFailedError,
  SessionMovedError,
  NotReadOnlyError,
  EphemeralOnLocalSessionError,
  NoWatcherError,
  RequestTimeoutError,
  ReconfigDisabledError,
  SessionClosedRequireSaslAuthError,
  QuotaExceededError,
  ThrottledOpError,
} from './errors.js';
export type { ZooKeeperErrorClass } from './errors.js';
export { Transaction } from './Transaction.js';
export type { CreateOptions, Op, OpResult, ReadOp, ReadOpResult } from './Transaction.js';
export { parseConnectString, HostProvider } from './ConnectString.js';
export type { HostPort, ParsedConnectString } from './ConnectString.js';
export { validatePath, joinPath, parentOf, basename } from './paths.js';
export { Ids, Perm, createModeValue } from './types.js';
export type {
  ACL,
  Id,
  Stat,
  CreateModeName,
  CreateModeValue,
  Data,
  WatchedEvent,
  Watcher,
  WatcherTypeName,
  AddWatchModeName,
  EventTypeName,
  KeeperStateName,
} from './types.js';
export { Err, CreateMode } from '../protocol/constants.js';
