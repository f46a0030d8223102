// Public value types of the client API: stats, ACLs, create modes, watch events.
import { CreateMode, EventType, KeeperState, Perm } from '../protocol/constants.js';
import type { ACL, Id, Stat } from '../protocol/records.js';

export type { ACL, Id, Stat };
export { Perm };

export type CreateModeName = keyof typeof CreateMode;
export type CreateModeValue = (typeof CreateMode)[CreateModeName];

export function createModeValue(mode: CreateModeName | CreateModeValue | undefined): CreateModeValue {
  if (mode === undefined) return CreateMode.PERSISTENT;
  if (typeof mode === 'number') return mode;
  const v = CreateMode[mode];
  if (v === undefined) throw new TypeError(`unknown create mode ${String(mode)}`);
  return v;
}

export const isSequentialMode = (m: number): boolean =>
  m === CreateMode.PERSISTENT_SEQUENTIAL || m === CreateMode.EPHEMERAL_SEQUENTIAL || m === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
export const isTtlMode = (m: number): boolean => m === CreateMode.PERSISTENT_WITH_TTL || m === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;

export type EventTypeName = keyof typeof EventType;
export type KeeperStateName = keyof typeof KeeperState;

const eventTypeNames = new Map<number, EventTypeName>(
  Object.entries(EventType).map(([k, v]) => [v, k as EventTypeName]),
);
const stateNames = new Map<number, KeeperStateName>(Object.entries(KeeperState).map(([k, v]) => [v, k as KeeperStateName]));

export function eventTypeName(v: number): EventTypeName {
  return eventTypeNames.get(v) ?? 'None';
}
export function keeperStateName(v: number): KeeperStateName {
  return stateNames.get(v) ?? 'Disconnected';
}

export interface WatchedEvent {
  type: EventTypeName;
  state: KeeperStateName;
  /** Client-side path (chroot stripped); null for session events. */
  path: string | null;
  /** Zxid from the notification header (-1 when the server does not say, as 3.8 servers never do). */
  zxid: number;
}

export type Watcher = (event: WatchedEvent) => void;

/** Kinds of watches, as RemoveWatches/CheckWatches understand them (Watcher.WatcherType). */
export type WatcherTypeName = 'Children' | 'Data' | 'Any' | 'Persistent' | 'PersistentRecursive';

export type AddWatchModeName = 'PERSISTENT' | 'PERSISTENT_RECURSIVE';

/** Predefined ACL lists (ZooDefs.Ids). */
export const Ids = {
  ANYONE_ID_UNSAFE: { scheme: 'world', id: 'anyone' } as Id,
  AUTH_IDS: { scheme: 'auth', id: '' } as Id,
  OPEN_ACL_UNSAFE: [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }] as ACL[],
  CREATOR_ALL_ACL: [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }] as ACL[],
  READ_ACL_UNSAFE: [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }] as ACL[],
} as const;

export type Data = Buffer | Uint8Array | string | null;

export function toBuffer(data: Data | undefined): Buffer | null {
  if (data === undefined) return Buffer.alloc(0);
  if (data === null) return null;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
