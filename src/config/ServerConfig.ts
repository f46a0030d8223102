// The settings a server runs with. zoo.cfg parsing (ZooCfg.ts) produces this; tests build it
// directly with defaultConfig({...overrides}).
import { DEFAULT_MAX_BUFFER } from '../protocol/constants.js';

export interface ServerConfig {
  /** Path of the zoo.cfg this came from, if any (for `conf`, status, print-cmd). */
  configPath?: string | undefined;
  tickTime: number;
  dataDir: string;
  dataLogDir: string;
  clientPort: number;
  clientPortAddress: string;
  clientPortListenBacklog: number;
  maxClientCnxns: number;
  maxCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  /** Four-letter words allowed; contains every word when the whitelist is '*'. */
  fourLetterWords: Set<string>;
  extendedTypesEnabled: boolean;
  /** jute.maxbuffer: largest accepted frame. */
  juteMaxBuffer: number;
  /** zookeeper.digest.enabled: tree digests in txns and snapshots (default true). */
  digestEnabled: boolean;
  snapCount: number;
  preAllocSizeKb: number;
  forceSync: boolean;
  autopurgeSnapRetainCount: number;
  /** Hours; 0 = off. */
  autopurgePurgeInterval: number;
  /** `super:<base64 sha1>` from zookeeper.DigestAuthenticationProvider.superDigest. */
  superDigest?: string | undefined;
  skipACL: boolean;
  enforceQuota: boolean;
  reconfigEnabled: boolean;
  standaloneEnabled: boolean;
  globalOutstandingLimit: number;
  adminEnableServer: boolean;
  adminServerAddress: string;
  adminServerPort: number;
  adminCommandURL: string;
  /** Container reaper (znode.container.*). */
  containerCheckIntervalMs: number;
  containerMaxPerMinute: number;
  containerMaxNeverUsedIntervalMs: number;
  /** Every key=value of the file as read, for `conf`/`icfg` and keys we pass through. */
  raw: Map<string, string>;

  // Filled by ZooCfg.ts; optional so configs built in code need not mention them.
  /** Id from `<dataDir>/myid`, when that file exists (standalone does not need one). */
  serverId?: number | undefined;
  /** False when the file describes a quorum: ≥ 2 voting server.N, or standaloneEnabled=false with any. */
  standalone?: boolean | undefined;
  secureClientPort?: number | undefined;
  secureClientPortAddress?: string | undefined;
  initLimit?: number | undefined;
  syncLimit?: number | undefined;
  connectToLearnerMasterLimit?: number | undefined;
  electionAlg?: number | undefined;
  peerType?: 'participant' | 'observer' | undefined;
  syncEnabled?: boolean | undefined;
  quorumListenOnAllIPs?: boolean | undefined;
  localSessionsEnabled?: boolean | undefined;
  localSessionsUpgradingEnabled?: boolean | undefined;
  dynamicConfigFile?: string | undefined;
  /** server.N lines (from zoo.cfg or the dynamic config file), by id. */
  servers?: Map<number, QuorumServerSpec> | undefined;
  /** group.G = sid:sid:... (hierarchical quorums). */
  groups?: Map<number, number[]> | undefined;
  /** weight.N (hierarchical quorums). */
  weights?: Map<number, number> | undefined;
  /** `readonlymode.enabled`: adds `isro` to the four-letter-word whitelist. */
  readonlyModeEnabled?: boolean | undefined;
  adminIdleTimeout?: number | undefined;
  /**
   * System properties as ZooKeeper would see them: `-D` flags from SERVER_JVMFLAGS/JVMFLAGS, then
   * every zoo.cfg key ZooKeeper does not parse itself as `zookeeper.<key>`.
   */
  systemProperties?: Map<string, string> | undefined;
  /** Non-fatal findings worth logging at startup (e.g. values raised to their minimum). */
  warnings?: string[] | undefined;
}

/** One `server.N=host:quorumPort:electionPort[:type][;[clientHost:]clientPort]` line. */
export interface QuorumServerSpec {
  id: number;
  /** More than one only with multiAddress.enabled (`|`-separated). */
  addresses: { host: string; quorumPort: number; electionPort: number }[];
  type: 'participant' | 'observer';
  clientHost?: string | undefined;
  clientPort?: number | undefined;
}

export const ALL_FOUR_LETTER_WORDS = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'hash', 'isro', 'mntr',
  'ruok', 'srst', 'srvr', 'stat', 'stmk', 'wchc', 'wchp', 'wchs',
] as const;

export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const tickTime = overrides.tickTime ?? 3000;
  const dataDir = overrides.dataDir ?? './data';
  return {
    tickTime,
    dataDir,
    dataLogDir: dataDir,
    clientPort: 2181,
    clientPortAddress: '0.0.0.0',
    clientPortListenBacklog: -1,
    maxClientCnxns: 60,
    maxCnxns: 0,
    minSessionTimeout: 2 * tickTime,
    maxSessionTimeout: 20 * tickTime,
    fourLetterWords: new Set(['srvr']),
    extendedTypesEnabled: false,
    juteMaxBuffer: DEFAULT_MAX_BUFFER,
    digestEnabled: true,
    snapCount: 100000,
    preAllocSizeKb: 65536,
    forceSync: true,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeInterval: 0,
    superDigest: undefined,
    skipACL: false,
    enforceQuota: false,
    reconfigEnabled: false,
    standaloneEnabled: true,
    globalOutstandingLimit: 1000,
    adminEnableServer: false,
    adminServerAddress: '0.0.0.0',
    adminServerPort: 8080,
    adminCommandURL: '/commands',
    containerCheckIntervalMs: 60000,
    containerMaxPerMinute: 10000,
    containerMaxNeverUsedIntervalMs: 0,
    raw: new Map(),
    ...overrides,
  };
}
