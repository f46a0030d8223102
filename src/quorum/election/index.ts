// ZooKeeper's fast leader election (FastLeaderElection) and the election port's connection rules
// (ElectionConnections), both pure state machines. What the wiring does around them:
// - hand every FastLeaderElection 'send' to ElectionConnections.send (it loops sends to ourselves
//   back as 'deliver'), and every 'deliver' to FastLeaderElection.receive;
// - run one election timer: 'setTimer' replaces it, 'cancelTimer' stops it, and when it fires call
//   timeout(token, connections.haveDelivered()); 'connectAll' goes to ElectionConnections.connectAll;
// - on 'decided', start leading/following/observing; once Zab has set the new epoch call
//   updateElectionVote(epoch); when that ends (lost leader or quorum, error) call becomeLooking()
//   and startLooking(history) (an observer waits observer.election.DelayMs, 200 ms, in between);
// - print 'log' outputs at their level (Apache's wording).
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
