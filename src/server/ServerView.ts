// The read-only face a server shows its operator interfaces: four-letter words, the AdminServer
// (/commands and the web console) and the Prometheus endpoint. They depend on this contract
// only, never on the server class, so the request pipeline behind it can change freely and no
// import cycle runs between them. Everything here is cheap to read; anything that touches disk
// is asynchronous or optional.
import type { ServerConfig } from '../config/ServerConfig.js';
import type { DataTree } from '../tree/DataTree.js';
import type { WatchManager } from '../tree/WatchManager.js';
import type { SessionTracker } from '../session/SessionTracker.js';
import type { Connection } from './Connection.js';
import type { ServerStats, StatsSource } from './ServerStats.js';

/** ServerStats.getServerState in ZooKeeper: srvr/stat "Mode:", mntr zk_server_state. */
export type ServerRole = 'standalone' | 'leader' | 'follower' | 'observer';

/** ZooTrace's default text trace mask (client requests, server packets, sessions, warnings). */
export const DEFAULT_TRACE_MASK = 306n;

/** The newest snapshot on disk, written or loaded by this server (FileSnap.lastSnapshotInfo). */
export interface LastSnapshot {
  zxid: number;
  /** The snapshot file; its modification time is the snapshot's timestamp. */
  path: string;
}

export interface ServerView extends StatsSource {
  readonly config: ServerConfig;
  /** The role in the ensemble; 'standalone' without one. */
  readonly role: ServerRole;
  /** A leader's PROPOSAL data sizes in bytes (Apache's proposal BufferStats; -1 before the first). */
  proposalSizes?(): { last: number; min: number; max: number };
  /** A leader's figures for mntr (learners, synced followers/observers, pending syncs, uptime); null otherwise. */
  leaderFigures?(): LeaderFigures | null;
  /** An ensemble member's view of the quorum (leader, zabstate, voting_view, observers commands); null standalone. */
  quorumInfo?(): QuorumInfo | null;
  /** observer_connection_stat_reset: a leader zeroes its observers' packet and request counts. */
  resetObserverStats?(): void;
  /**
   * The id operators see (conf serverId, configuration server_id, zabstate myid), as
   * ZooKeeperServer.getServerId: myid in an ensemble, 0 for a standalone server whatever myid says.
   */
  readonly myid: number;
  /** The bound client port (config.clientPort may be 0). */
  readonly port: number;
  /** Serving client requests; most admin commands refuse to run otherwise. */
  readonly running: boolean;
  /** An ensemble member serves clients only while its role is established (synced with a leader); standalone: from start. */
  readonly serving?: boolean;
  /** The storage failure that stopped (or is stopping) the server: it serves no more even if `running` still says so. */
  readonly fatalError?: Error | null;
  /** Highest zxid applied to the tree. */
  readonly lastZxid: number;
  /** Requests received and not yet answered. */
  readonly outstanding: number;
  /** Reads only; digestLog is the hash command's history of tree digests. */
  readonly tree: Pick<DataTree, 'get' | 'aclOf' | 'nodeCount' | 'approximateDataSize' | 'ephemerals' | 'quotaPaths' | 'digestLog'>;
  readonly watches: Pick<WatchManager, 'totalWatches' | 'dataSummary' | 'dataPathsOf' | 'dataWatchers'>;
  readonly tracker: Pick<SessionTracker, 'sessions' | 'expiryBuckets'>;
  /** Live client connections; crst resets their counters through Connection.resetStats. */
  readonly connections: ReadonlySet<Connection>;
  /** The metrics registry and its recording facade; stats.reset() is srst. */
  readonly stats: ServerStats;
  /** The text trace mask gtmk/stmk (4lw and AdminServer alike) read and set. */
  traceMask: bigint;
  /** Absent for a server that keeps nothing on disk. */
  lastSnapshot?(): LastSnapshot | null;
}

/** What a leader reports in mntr, as ZooKeeper 3.8's LeaderZooKeeperServer gauges. */
export interface LeaderFigures {
  learners: number;
  syncedFollowers: number;
  syncedNonVotingFollowers: number;
  syncedObservers: number;
  pendingSyncs: number;
  /** ms since this leader was established. */
  leaderUptimeMs: number;
}

/** ZooKeeper 3.8's QuorumPeer.ZabState, lowercased as the zabstate command shows it. */
export type ZabState = 'election' | 'discovery' | 'synchronization' | 'broadcast';

/** One server.N line as the member read it. */
export interface QuorumMemberInfo {
  sid: number;
  /** Each (quorum, election) address pair; more than one only with multiAddress.enabled. */
  addresses: { host: string; quorumPort: number; electionPort: number }[];
  type: 'participant' | 'observer';
  /** From the line's `;[host:]port` part, if it has one. */
  clientHost?: string | undefined;
  clientPort?: number | undefined;
}

/** What an ensemble member knows about its quorum, read when an admin command asks. */
export interface QuorumInfo {
  myid: number;
  zabState: ZabState;
  /** The elected leader's sid, or null while electing. */
  leaderId: number | null;
  /** Every member of the configuration, this one included. */
  members: QuorumMemberInfo[];
  /** A leader's connected observers; empty on other roles. */
  observers: ObserverInfo[];
}

/** An observer connected to this leader (Apache's LearnerHandler.getLearnerHandlerInfo figures). */
export interface ObserverInfo {
  sid: number;
  synced: boolean;
  /** "/host:port" of the observer's end of the connection. */
  remoteAddress: string;
  /** Wall-clock ms when its connection was accepted. */
  established: number;
  queuedPackets: number;
  queuedBytes: number;
  packetsReceived: number;
  packetsSent: number;
  requests: number;
  /** The zxid of the last packet sent to it that carried one; -1 before any. */
  lastZxid: bigint;
}
