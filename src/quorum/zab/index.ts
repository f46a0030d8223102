// Zab (ZooKeeper's atomic broadcast) as pure state machines; see ZabLeader and ZabLearner.
export * from './messages.js';
export { chooseSync, type SyncDecision, type SyncInputs } from './syncDecision.js';
export { ZabLeader, type LeaderOutput, type LearnerType, type ZabLeaderOptions } from './ZabLeader.js';
export { ZabLearner, type LearnerOutput, type ZabLearnerOptions } from './ZabLearner.js';
