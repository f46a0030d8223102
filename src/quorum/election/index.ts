// ZooKeeper's fast leader election as a pure state machine; see FastLeaderElection.
export {
  FastLeaderElection,
  type ElectionOptions,
  type ElectionOutput,
  type LocalHistory,
  type LogLevel,
  type Notification,
  type OutgoingNotification,
  type PeerType,
} from './FastLeaderElection.js';
export { QuorumHierarchical, QuorumMaj, type HierarchicalGroup, type QuorumVerifier } from './QuorumVerifier.js';
export * from './Vote.js';
export { ElectionConnections, type ConnectionOutput, type ConnId } from './ElectionConnections.js';
