// Backups from a running server over the AdminServer (what Exhibitor did, and `etcdctl snapshot
// save`): two streaming commands next to the JSON ones.
//
//   GET /commands/snapshot  (alias snap; Apache 3.9's name, header last_zxid as there) streams a
//       fresh fuzzy snapshot in ZooKeeper's snapshot file format. Its name zxid S goes out in the
//       last_zxid header; when the last byte is out, the trailer zxid_complete says how far the
//       tree had moved meanwhile (E): replaying S+1..E onto the snapshot gives the tree at E.
//   GET /commands/txns?after=S&upto=E  streams those txns as one txn log file (ZooKeeper's
//       format), from the in-memory committed window when it reaches back far enough, else from
//       the log on disk.
//
// Together they are a data directory that any ZooKeeper 3.8 (and we) starts from at zxid E.
// Both need an Authorization header as in 3.9 ("digest user:password", or "ip") whose identity
// holds ALL permissions on "/", since a snapshot holds every znode whatever its ACL.
import type http from 'node:http';
import type { Txn } from '../protocol/txn.js';
import { Perm } from '../protocol/constants.js';
import type { ZkDatabase } from '../tree/ZkDatabase.js';
import { streamSnapshot } from '../storage/Snapshot.js';
import { encodeLogFileHeader, encodeLogRecords } from '../storage/TxnLog.js';
import { readTxnsAfter } from '../storage/TxnLogReader.js';
import { authenticate, normaliseAddress, type Identity } from '../auth/AuthProviders.js';
import { hasPerm } from './AclCheck.js';
import { storageDirs } from './StorageSettings.js';
import type { ServerView } from './ServerView.js';

export const SNAPSHOT_COMMANDS = ['snapshot', 'snap'] as const;
export const TXNS_COMMAND = 'txns';
/** Header with the snapshot's name zxid (Apache 3.9's SnapshotCommand). */
export const LAST_ZXID_HEADER = 'last_zxid';
/** Trailer: the zxid the tree had reached when the snapshot stream ended. */
export const ZXID_COMPLETE_TRAILER = 'zxid_complete';
/** Header of a txns answer: the zxid of its first txn (the log file's name), absent when empty. */
export const FIRST_ZXID_HEADER = 'first_zxid';

const hex = (z: number): string => `0x${z.toString(16)}`;

/** "0x1f" or "31": a zxid as operators write them; null for anything else. */
export function parseZxid(s: string | null): number | null {
  if (s === null) return null;
  const t = s.trim();
  if (!/^(0x[0-9a-fA-F]{1,16}|\d{1,20})$/.test(t)) return null;
  const v = Number(t.startsWith('0x') ? BigInt(t) : BigInt(t));
  return Number.isSafeInteger(v) ? v : null;
}

/** What a backup needs beyond the read-only view: the database it serializes. */
type BackupView = ServerView & { readonly db?: ZkDatabase };

function fail(res: http.ServerResponse, command: string, status: number, error: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ command, error }, null, 2) + '\n');
}

/**
 * Commands.handleAuthentication + handleAuthorization of Apache 3.9: the identities of the
 * Authorization header ("<scheme> <auth>" or "<scheme>"), then ALL on "/". The error answer, or
 * null when the caller may proceed.
 */
export function authorizeBackup(view: ServerView, req: http.IncomingMessage): { status: number; error: string } | null {
  const info = req.headers.authorization;
  if (info === undefined) return { status: 401, error: 'Auth info is missing for the command' };
  const parts = info.split(' ');
  if (parts.length !== 1 && parts.length !== 2) return { status: 401, error: 'Not authenticated' };
  const remote = normaliseAddress(req.socket.remoteAddress);
  const ids: Identity[] | null = authenticate(parts[0]!, parts.length === 2 ? Buffer.from(parts[1]!, 'utf8') : null, remote, view.config.superDigest);
  if (!ids || ids.length === 0) return { status: 401, error: 'Not authenticated' };
  const root = view.tree.get('/');
  if (!root) return { status: 500, error: 'the tree has no root' };
  // Every bit on its own, as Apache does: an ACL entry with only some of them does not grant ALL.
  const acl = view.tree.aclOf(root);
  for (let bit = 1; bit <= Perm.ALL; bit <<= 1) {
    if (!hasPerm(acl, bit, ids, view.config.skipACL)) return { status: 403, error: 'Not authorized' };
  }
  return null;
}

/** Writes `chunk`, waiting for the socket to drain; false once the client went away. */
async function write(res: http.ServerResponse, chunk: Buffer): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  return !res.destroyed;
}

export class BackupCommands {
  /** One snapshot stream at a time: each holds a serializer slice of the event loop per turn. */
  private streaming = false;
  snapshotsServed = 0;

  constructor(private readonly view: BackupView) {}

  /** Handles `name` if it is one of ours; false leaves it to the JSON commands. */
  handle(name: string, req: http.IncomingMessage, res: http.ServerResponse, args: URLSearchParams, notServing: string | null): boolean {
    const isSnap = (SNAPSHOT_COMMANDS as readonly string[]).includes(name);
    if (!isSnap && name !== TXNS_COMMAND) return false;
    const command = isSnap ? 'snapshot' : TXNS_COMMAND;
    if (notServing !== null) {
      fail(res, command, 503, 'This ZooKeeper instance is not currently serving requests');
      return true;
    }
    if (this.view.config.systemProperties?.get('zookeeper.admin.snapshot.enabled') === 'false') {
      fail(res, command, 503, 'Snapshot command is disabled');
      return true;
    }
    const denied = authorizeBackup(this.view, req);
    if (denied) {
      fail(res, command, denied.status, denied.error);
      return true;
    }
    const db = this.view.db;
    if (!db) {
      fail(res, command, 500, 'this server exposes no database to back up');
      return true;
    }
    const run = isSnap ? this.snapshot(db, res) : this.txns(db, res, args);
    run.catch((e: Error) => {
      if (!res.headersSent) fail(res, command, 500, e.message);
      else res.destroy(e);
    });
    return true;
  }

  private async snapshot(db: ZkDatabase, res: http.ServerResponse): Promise<void> {
    if (this.streaming) {
      fail(res, 'snapshot', 429, 'a snapshot is already being streamed; try again when it is done');
      return;
    }
    this.streaming = true;
    try {
      const snap = streamSnapshot(db);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        [LAST_ZXID_HEADER]: hex(snap.zxid),
        trailer: ZXID_COMPLETE_TRAILER,
      });
      for await (const chunk of snap) {
        if (!(await write(res, chunk))) return;
      }
      // Read after the last chunk, so every change the serializer may have seen is at or below it.
      res.addTrailers({ [ZXID_COMPLETE_TRAILER]: hex(db.lastProcessedZxid) });
      res.end();
      this.snapshotsServed++;
    } finally {
      this.streaming = false;
    }
  }

  private async txns(db: ZkDatabase, res: http.ServerResponse, args: URLSearchParams): Promise<void> {
    const after = parseZxid(args.get('after'));
    if (after === null) {
      fail(res, TXNS_COMMAND, 400, `txns requires a zxid argument after (0x-hex or decimal), got ${args.get('after')}`);
      return;
    }
    const applied = db.lastProcessedZxid;
    const upto = args.has('upto') ? parseZxid(args.get('upto')) : applied;
    if (upto === null || upto > applied || upto < after) {
      fail(res, TXNS_COMMAND, 400, `upto must be a zxid between after (${hex(after)}) and the last applied zxid ${hex(applied)}, got ${args.get('upto')}`);
      return;
    }
    const txns = await this.collect(db, after, upto);
    const last = txns.length > 0 ? txns[txns.length - 1]!.hdr.zxid : after;
    if (last !== upto) throw new Error(`the txn log ends at ${hex(last)} before ${hex(upto)}`);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', [LAST_ZXID_HEADER]: hex(last) };
    if (txns.length > 0) headers[FIRST_ZXID_HEADER] = hex(txns[0]!.hdr.zxid);
    res.writeHead(200, headers);
    if (!(await write(res, encodeLogFileHeader()))) return;
    // Encoded in batches so a long range neither builds one huge buffer nor many tiny writes.
    for (let i = 0; i < txns.length; i += 1000) {
      if (!(await write(res, encodeLogRecords(txns.slice(i, i + 1000))))) return;
    }
    res.end();
  }

  /** Txns after..upto: the committed window when it reaches back to `after`, else the log on disk. */
  private async collect(db: ZkDatabase, after: number, upto: number): Promise<Txn[]> {
    if (upto === after) return [];
    const window = db.committedLog.covers(after) && db.committedLog.maxZxid >= upto ? db.committedLog.txnsAfter(after) : null;
    if (window) return window.filter((t) => t.hdr.zxid <= upto);
    const { logDir } = storageDirs(this.view.config);
    const out: Txn[] = [];
    for await (const t of readTxnsAfter(logDir, after, { mustCover: true, untilZxid: upto })) {
      if (t.hdr.zxid > upto) break;
      out.push(t);
    }
    return out;
  }
}
