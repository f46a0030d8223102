// Building blocks shared by the recipes: retrying idempotent calls across connection loss,
// creating parent paths, "protected" sequential creates that survive a lost reply, and ordering
// sequential children by their sequence suffix.
import { randomUUID } from 'node:crypto';
import { Err } from '../protocol/constants.js';
import { isZooKeeperError, ZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { CreateModeName, Data } from '../client/types.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';

/** Errors after which the operation's outcome is unknown but the session may still be alive. */
export function isConnectionProblem(e: unknown): boolean {
  return isZooKeeperError(e) && (e.code === Err.ConnectionLoss || e.code === Err.RequestTimeout || e.code === Err.OperationTimeout);
}

/** Runs an idempotent call, waiting for the reconnect and retrying after connection problems. */
export async function retrying<T>(zk: ZooKeeper, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isConnectionProblem(e)) throw e;
      await zk.waitConnected();
    }
  }
}

/** Creates `path` and any missing ancestors as persistent nodes (like mkdir -p). */
export async function ensurePath(zk: ZooKeeper, path: string): Promise<void> {
  if (path === '/') return;
  if (await retrying(zk, () => zk.exists(path))) return;
  let cur = '';
  for (const seg of path.split('/').slice(1)) {
    cur += `/${seg}`;
    try {
      await retrying(zk, () => zk.create(cur, null));
    } catch (e) {
      if (!isZooKeeperError(e, Err.NodeExists)) throw e;
    }
  }
}

export function newGuid(): string {
  return randomUUID();
}

/** Prefix that marks a protected node as ours: `_c_<guid>-`. */
export function protectedPrefix(guid: string): string {
  return `_c_${guid}-`;
}

/**
 * Creates a sequential node whose name carries a GUID, so that if the reply is lost with the
 * connection the node can be found again instead of being created twice (or leaked, if ephemeral).
 * Returns the full path.
 */
export async function createProtected(
  zk: ZooKeeper,
  dir: string,
  name: string,
  data: Data,
  mode: CreateModeName,
  guid = newGuid(),
): Promise<string> {
  const prefix = protectedPrefix(guid);
  for (;;) {
    try {
      return await zk.create(joinPath(dir, prefix + name), data, { mode });
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) {
        await ensurePath(zk, dir);
        continue;
      }
      if (!isConnectionProblem(e)) throw e;
      await zk.waitConnected();
      // The lost create may still be in flight: sync orders our look-up after it.
      await retrying(zk, () => zk.sync(dir));
      const children = await retrying(zk, () => zk.getChildren(dir));
      const mine = children.find((c) => c.startsWith(prefix));
      if (mine) return joinPath(dir, mine);
    }
  }
}

/** The 10-digit sequence suffix of a sequential node name. */
export function sequenceOf(name: string): string {
  return name.slice(-10);
}

export function sortBySequence(names: string[]): string[] {
  return names.slice().sort((a, b) => (sequenceOf(a) < sequenceOf(b) ? -1 : sequenceOf(a) > sequenceOf(b) ? 1 : 0));
}

/** Resolves after `ms` or when `signal` aborts; never rejects. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits until `path` is deleted (or already gone). Resolves false on timeout. Session expiry ends
 * the wait too (the watch settles with an Expired event) and the caller's next call will fail.
 */
export async function waitForDeletion(zk: ZooKeeper, path: string, timeoutMs?: number): Promise<boolean> {
  const res = await retrying(zk, () => zk.exists(path, true));
  if (res.stat === null) return true;
  if (timeoutMs === undefined) {
    await res.watch;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, timeoutMs))));
  const out = await Promise.race([res.watch.then(() => true as const), timedOut]);
  clearTimeout(timer);
  return out;
}

/** Deletes a node, treating "already gone" as success and retrying across connection loss. */
export async function deleteQuietly(zk: ZooKeeper, path: string): Promise<void> {
  try {
    await retrying(zk, () => zk.delete(path));
  } catch (e) {
    if (!isZooKeeperError(e, Err.NoNode)) throw e;
  }
}

export function sessionGone(zk: ZooKeeper): ZooKeeperError | null {
  if (zk.state === 'expired' || zk.state === 'closed') return new ZooKeeperError(Err.SessionExpired);
  return null;
}
