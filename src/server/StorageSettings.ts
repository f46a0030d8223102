// zoo.cfg onto storage: storage takes directories and numbers, the server and the CLI map a
// ServerConfig to them here.
import * as path from 'node:path';
import type { ServerConfig } from '../config/ServerConfig.js';
import { VERSION_DIR } from '../storage/FileNames.js';
import type { StorageDirs, StorageSettings } from '../storage/Recovery.js';

/** `<dataDir>/version-2` holds snapshots (and epoch files); `<dataLogDir>/version-2` the logs. */
export function storageDirs(config: Pick<ServerConfig, 'dataDir' | 'dataLogDir'>): StorageDirs {
  return {
    snapDir: path.join(config.dataDir, VERSION_DIR),
    logDir: path.join(config.dataLogDir || config.dataDir, VERSION_DIR),
  };
}

function intProperty(config: ServerConfig, key: string): number | undefined {
  const v = config.systemProperties?.get(key);
  if (v === undefined || !/^-?\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

/** Everything storage needs from the configuration. */
export function storageSettings(config: ServerConfig, overrides: Partial<StorageSettings> = {}): StorageSettings {
  return {
    ...storageDirs(config),
    autocreate: config.systemProperties?.get('zookeeper.datadir.autocreate') !== 'false',
    preAllocSizeKb: config.preAllocSizeKb,
    forceSync: config.forceSync,
    snapCount: config.snapCount,
    maxFieldBytes: config.juteMaxBuffer * 2,
    commitLogCount: intProperty(config, 'zookeeper.commitLogCount'),
    digestEnabled: config.digestEnabled,
    snapRetainCount: config.autopurgeSnapRetainCount,
    purgeIntervalHours: config.autopurgePurgeInterval,
    quorumMember: config.standalone === false,
    ...overrides,
  };
}
