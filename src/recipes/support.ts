// Building blocks shared by the recipes: retrying idempotent calls across connection loss,
// creating parent paths, "protected" sequential creates that survive a lost reply, and ordering
// sequential children by their sequence suffix.
import { randomUUID } from 'node:crypto';
import { Err } from '../protocol/constants.js';
import { abortableWait, raceAbort, sleep } from '../client/abort.js';
import { isZooKeeperError, ZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { CreateModeName, Data } from '../client/types.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';

/** Errors after which the operation's outcome is unknown but the session may still be alive. */
export function isConnectionProblem(e: unknown): boolean {
  return isZooKeeperError(e) && (e.code === Err.ConnectionLoss || e.code === Err.RequestTimeout || e.code === Err.OperationTimeout);
}

/**
 * Runs an idempotent call, waiting for the reconnect and retrying after connection problems.
 * `signal` ends the wait for the reconnect (pass it to the call itself too, to end that).
 */
export async function retrying<T>(zk: ZooKeeper, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (;;) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (e) {
      if (!isConnectionProblem(e)) throw e;
      await zk.waitConnected({ signal });
    }
  }
}

/**
 * Creates `path` and any missing ancestors (like mkdir -p), as persistent nodes or, with
 * `mode: 'CONTAINER'`, as containers the server removes once they have had children and are empty
 * again (Curator's creatingParentContainersIfNeeded). A server without containers gets persistent ones.
 */
export async function ensurePath(zk: ZooKeeper, path: string, signal?: AbortSignal, mode: 'PERSISTENT' | 'CONTAINER' = 'PERSISTENT'): Promise<void> {
  if (path === '/') return;
  if (await retrying(zk, () => zk.exists(path, null, { signal }), signal)) return;
  let cur = '';
  for (const seg of path.split('/').slice(1)) {
    cur += `/${seg}`;
    try {
      // Creating a parent is harmless if repeated, so it may be abandoned midway.
      await retrying(zk, () => zk.create(cur, null, { mode, signal }), signal);
    } catch (e) {
      if (mode === 'CONTAINER' && isZooKeeperError(e, Err.Unimplemented)) {
        await ensurePath(zk, path, signal, 'PERSISTENT');
        return;
      }
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
  signal?: AbortSignal,
  /** Whole name before the sequence number, instead of `_c_<guid>-<name>` (e.g. kazoo's `<hex>__lock__`). */
  namePrefix?: string,
): Promise<string> {
  // The prefix is unique to this create, so after a lost reply our node is the child starting with it.
  const prefix = namePrefix ?? protectedPrefix(guid);
  const nodeName = namePrefix ?? prefix + name;
  signal?.throwIfAborted();
  let sent = false;
  try {
    for (;;) {
      try {
        // No signal on the create itself: once sent, its outcome must be learnt even if the caller
        // stops waiting, and a node it made removed.
        sent = true;
        const creating = zk.create(joinPath(dir, nodeName), data, { mode });
        let made: string;
        try {
          made = await raceAbort(creating, signal);
        } catch (e) {
          if (signal?.aborted && e === signal.reason) {
            sent = false; // cleanup is taken care of here
            void creating
              .then(
                (p) => deleteQuietly(zk, p),
                (err) => (isConnectionProblem(err) ? removeProtectedLater(zk, dir, prefix) : undefined),
              )
              .catch(() => {});
          }
          throw e;
        }
        if (signal?.aborted) {
          await deleteQuietly(zk, made).catch(() => {});
          throw signal.reason;
        }
        return made;
      } catch (e) {
        if (isZooKeeperError(e, Err.NoNode)) {
          sent = false;
          // Directories of ephemeral contenders (locks, latches, leases) are containers, so they go
          // away when the last contender leaves; a container reaped just now only means we loop.
          await ensurePath(zk, dir, signal, mode.startsWith('EPHEMERAL') ? 'CONTAINER' : 'PERSISTENT');
          continue;
        }
        if (!isConnectionProblem(e)) throw e;
        await zk.waitConnected({ signal });
        // The lost create may still be in flight: sync orders our look-up after it.
        await retrying(zk, () => zk.sync(dir, { signal }), signal);
        const children = await retrying(zk, () => zk.getChildren(dir, null, { signal }), signal);
        const mine = children.find((c) => c.startsWith(prefix));
        if (mine) return joinPath(dir, mine);
      }
    }
  } catch (e) {
    // Aborted with a create of unknown outcome: find our node once connected and remove it, as
    // Curator's protected mode does in the background, so no orphan waits for the session to end.
    if (sent && signal?.aborted && e === signal.reason) void removeProtectedLater(zk, dir, prefix);
    throw e;
  }
}

async function removeProtectedLater(zk: ZooKeeper, dir: string, prefix: string): Promise<void> {
  try {
    await zk.waitConnected();
    await retrying(zk, () => zk.sync(dir));
    for (const c of await retrying(zk, () => zk.getChildren(dir))) {
      if (c.startsWith(prefix)) await deleteQuietly(zk, joinPath(dir, c));
    }
  } catch {
    // session over: the server removes ephemeral nodes itself
  }
}

/** The 10-digit sequence suffix of a sequential node name. */
export function sequenceOf(name: string): string {
  return name.slice(-10);
}

export function sortBySequence(names: string[]): string[] {
  return names.slice().sort((a, b) => (sequenceOf(a) < sequenceOf(b) ? -1 : sequenceOf(a) > sequenceOf(b) ? 1 : 0));
}

/** Resolves after `ms`; rejects with `signal.reason` if the signal aborts first. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, signal);
}

/**
 * Waits until `path` is deleted (or already gone). Resolves false on timeout. Session expiry ends
 * the wait too (the watch settles with an Expired event) and the caller's next call will fail.
 */
export async function waitForDeletion(zk: ZooKeeper, path: string, timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
  const res = await retrying(zk, () => zk.exists(path, true, { signal }), signal);
  if (res.stat === null) return true;
  return waitOrTimeout(res.watch.then(() => true), timeoutMs, signal);
}

/**
 * Resolves like `p`, or false after `timeoutMs` (undefined = no limit), or rejects with
 * `signal.reason`; the timer and the abort listener are removed whichever comes first. A watch
 * left behind by an abandoned wait fires once later into a settled promise, which is harmless.
 */
export function waitOrTimeout(p: Promise<boolean>, timeoutMs: number | undefined, signal?: AbortSignal): Promise<boolean> {
  return abortableWait<boolean>(signal, (resolve, reject) => {
    p.then(resolve, reject);
    if (timeoutMs === undefined) return;
    const t = setTimeout(() => resolve(false), Math.max(0, Math.min(timeoutMs, 2 ** 31 - 1)));
    return () => clearTimeout(t);
  });
}

/** Options of every blocking recipe call. */
export interface WaitOptions {
  /** Give up after this many ms (the call then reports failure: false / null). */
  timeoutMs?: number;
  /** Abandon the wait: rejects with `signal.reason` after cleaning up (e.g. deleting our node). */
  signal?: AbortSignal;
}

/** Accepts the old positional timeout or an options object. */
export function waitOptions(arg: number | WaitOptions | undefined): WaitOptions {
  return typeof arg === 'number' ? { timeoutMs: arg } : (arg ?? {});
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
