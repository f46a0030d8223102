// Coordination recipes built on the client.
export { Mutex, type LockGuard } from './Mutex.js';
export { ReadWriteLock, LockHandle } from './ReadWriteLock.js';
export { Semaphore, type Lease } from './Semaphore.js';
export { LeaderLatch, LeaderElection, type LeaderLatchEvents } from './LeaderLatch.js';
export { Barrier, DoubleBarrier } from './Barrier.js';
export { DistributedQueue } from './DistributedQueue.js';
export { DistributedCounter, type CounterFormat } from './DistributedCounter.js';
export { GroupMembership, type GroupEvents } from './GroupMembership.js';
export { NodeCache, type NodeData, type NodeCacheEvents } from './NodeCache.js';
export { TreeCache, type TreeCacheEvent, type TreeCacheEvents, type TreeCacheEventType } from './TreeCache.js';
export { LockInternals, type AdmissionRule } from './LockInternals.js';
export { createProtected, ensurePath, retrying, sortBySequence, isConnectionProblem, type WaitOptions } from './support.js';
export { SharedCount, type SharedCountEvents, type VersionedValue } from './SharedCount.js';
export { DistributedAtomicLong, type AtomicValue } from './DistributedAtomicLong.js';
export {
  PathChildrenCache,
  type ChildData,
  type PathChildrenCacheEvent,
  type PathChildrenCacheEventType,
  type PathChildrenCacheEvents,
} from './PathChildrenCache.js';
export { SemaphoreV2 } from './SemaphoreV2.js';
export { Party, ShallowParty } from './Party.js';
export {
  ServiceDiscovery,
  serviceInstance,
  encodeInstance,
  type ServiceDiscoveryOptions,
  type ServiceInstance,
  type ServiceInstanceInput,
  type ServiceType,
  type UriSpecPart,
} from './ServiceDiscovery.js';
export { CuratorCache, type CachedNode, type CuratorCacheEvent, type CuratorCacheEvents } from './CuratorCache.js';
export { RenewingSession, type ClientSource, type RenewingSessionEvents, type RenewingSessionOptions } from './RenewingSession.js';
export {
  PersistentNode,
  PersistentTtlNode,
  type PersistentNodeEvents,
  type PersistentNodeMode,
  type PersistentNodeOptions,
  type PersistentTtlNodeOptions,
} from './PersistentNode.js';
export {
  CuratorQueue,
  DistributedPriorityQueue,
  DistributedDelayQueue,
  encodeQueueItems,
  decodeQueueItems,
  priorityKey,
  delayKey,
  QUEUE_ITEM_PREFIX,
} from './CuratorQueue.js';
export {
  SetPartitioner,
  kazooPartitioner,
  type PartitionFunc,
  type PartitionState,
  type SetPartitionerEvents,
  type SetPartitionerOptions,
} from './SetPartitioner.js';
