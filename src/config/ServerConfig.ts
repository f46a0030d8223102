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
