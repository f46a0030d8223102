// zk-server backup / restore: a running server's tree, exact at one zxid, as a data directory
// that ZooKeeper 3.8 and we start from (<dir>/version-2/snapshot.<S> + log.<S+1>), and copying
// such a directory into a server's configured dataDir/dataLogDir.
//
// Backup: the snapshot the AdminServer streams is fuzzy (the tree changes while it is written);
// its trailer names the zxid E the tree had reached when it ended, and the txns S+1..E fetched
// next make replay converge on the tree at E. Before anything is called a backup, the files
// are loaded here exactly as a starting server would load them, and must reach E.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { LOG_PREFIX, SNAPSHOT_PREFIX, VERSION_DIR, listDataFiles, logFileName, snapshotFileName } from '../storage/FileNames.js';
import { loadDatabase } from '../storage/Recovery.js';
import { CURRENT_EPOCH_FILE, ACCEPTED_EPOCH_FILE } from '../storage/EpochFiles.js';

export interface BackupTarget {
  host: string;
  port: number;
  /** adminCommandURL, e.g. /commands. */
  base: string;
  /** The Authorization header: "digest user:password" or "ip". */
  auth: string;
}

export interface BackupResult {
  dir: string;
  snapshotZxid: number;
  zxid: number;
  txns: number;
  snapshotBytes: number;
  nodes: number;
  digest: string;
  ms: number;
}

export class BackupError extends Error {}

const hex = (z: number): string => `0x${z.toString(16)}`;

function parseHexZxid(v: string | string[] | undefined, what: string): number {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s || !/^0x[0-9a-f]{1,16}$/i.test(s)) throw new BackupError(`the server sent no valid ${what} (got ${s ?? 'nothing'})`);
  return Number(BigInt(s));
}

/** The hint an operator needs for the AdminServer's error answers. */
function explain(status: number, body: string, url: string): string {
  let error = body.trim();
  try {
    error = String((JSON.parse(body) as { error?: unknown }).error ?? error);
  } catch {
    /* not JSON: show it as it is */
  }
  const hint =
    status === 401 || status === 403
      ? ' (pass --auth "digest user:password" for an identity with ALL permissions on /)'
      : status === 404 || /Unknown command/.test(error)
        ? ' (is this an AdminServer of zookeeper-ts? Apache ZooKeeper 3.8 has no snapshot command)'
        : '';
  return `${url}: HTTP ${status}: ${error}${hint}`;
}

interface Download {
  headers: http.IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  bytes: number;
}

/** GET `url` into `file` (fsynced), keeping headers and trailers; rejects on any non-200. */
function download(url: string, auth: string, file: string, timeoutMs: number): Promise<Download> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: auth } }, (res) => {
      // A JSON answer to a byte-stream command is an error, whatever the status (Apache 3.8
      // answers an unknown command with 200 and {"error": "Unknown command: ..."}).
      const json = String(res.headers['content-type'] ?? '').startsWith('application/json');
      if (res.statusCode !== 200 || json) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => reject(new BackupError(explain(res.statusCode ?? 0, body, url))));
        return;
      }
      const fd = fs.openSync(file, 'w');
      let bytes = 0;
      let failed = false;
      const done = (err?: Error) => {
        if (failed) return;
        try {
          if (!err) fs.fsyncSync(fd);
        } catch (e) {
          err = e as Error;
        }
        fs.closeSync(fd);
        if (err) {
          failed = true;
          reject(err);
        } else resolve({ headers: res.headers, trailers: res.trailers, bytes });
      };
      res.on('data', (d: Buffer) => {
        if (failed) return;
        try {
          fs.writeSync(fd, d);
          bytes += d.length;
        } catch (e) {
          res.destroy();
          done(e as Error);
        }
      });
      // A stream cut before its end (server stopped, network) has no complete chunked terminator.
      res.on('aborted', () => done(new BackupError(`${url}: the server closed the stream before it ended`)));
      res.on('error', (e) => done(e));
      res.on('end', () => (res.complete ? done() : done(new BackupError(`${url}: incomplete answer`))));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new BackupError(`${url}: no data for ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof BackupError ? e : new BackupError(`${url}: ${e.message}`)));
  });
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function dataFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return [...listDataFiles(dir, SNAPSHOT_PREFIX), ...listDataFiles(dir, LOG_PREFIX)].map((f) => f.path);
}

/** Takes a backup of the server at `target` into `dir` (which must not hold one already). */
export async function takeBackup(target: BackupTarget, dir: string, opts: { timeoutMs?: number } = {}): Promise<BackupResult> {
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? 60000;
  const v2 = path.join(dir, VERSION_DIR);
  const existing = dataFilesIn(v2);
  if (existing.length > 0) throw new BackupError(`${dir} already holds a data directory (${path.basename(existing[0]!)}); choose an empty directory`);
  fs.mkdirSync(v2, { recursive: true });
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const base = `http://${host}:${target.port}${target.base.replace(/\/+$/, '')}`;

  const snapTmp = path.join(v2, 'snapshot.download.tmp');
  const logTmp = path.join(v2, 'log.download.tmp');
  try {
    const snap = await download(`${base}/snapshot?streaming=true`, target.auth, snapTmp, timeoutMs);
    const snapshotZxid = parseHexZxid(snap.headers.last_zxid, 'last_zxid header');
    const zxid = parseHexZxid(snap.trailers.zxid_complete, 'zxid_complete trailer');
    const log = await download(`${base}/txns?after=${hex(snapshotZxid)}&upto=${hex(zxid)}`, target.auth, logTmp, timeoutMs);
    const first = log.headers.first_zxid === undefined ? null : parseHexZxid(log.headers.first_zxid, 'first_zxid header');
    fs.renameSync(snapTmp, path.join(v2, snapshotFileName(snapshotZxid)));
    if (first !== null) fs.renameSync(logTmp, path.join(v2, logFileName(first)));
    else fs.rmSync(logTmp);
    fsyncDir(v2);

    // Load it as a server would: the checksums hold, replay reaches E, the digest matches.
    const warnings: string[] = [];
    const loaded = loadDatabase({ snapDir: v2, logDir: v2 }, { logger: { info: () => {}, warn: (m) => warnings.push(m) } });
    if (loaded.report.lastProcessedZxid !== zxid) {
      throw new BackupError(`the backup loads to zxid ${hex(loaded.report.lastProcessedZxid)}, not ${hex(zxid)}: ${warnings.join('; ')}`);
    }
    if (warnings.length > 0) throw new BackupError(`the backup does not load cleanly: ${warnings.join('; ')}`);
    const result: BackupResult = {
      dir, snapshotZxid, zxid, txns: loaded.report.replayedTxns, snapshotBytes: snap.bytes,
      nodes: loaded.db.tree.nodeCount, digest: String(loaded.db.tree.treeDigest()), ms: performance.now() - t0,
    };
    const manifest = {
      zxid: hex(zxid), snapshot_zxid: hex(snapshotZxid), txns: result.txns, nodes: result.nodes, digest: result.digest,
      server: `${target.host}:${target.port}`, taken_at: new Date().toISOString(),
    };
    fs.writeFileSync(path.join(dir, 'backup.json'), JSON.stringify(manifest, null, 2) + '\n');
    return result;
  } catch (e) {
    // Leave no half backup that a later restore could mistake for a whole one.
    for (const f of [snapTmp, logTmp, ...dataFilesIn(v2)]) fs.rmSync(f, { force: true });
    throw e;
  }
}

export interface RestoreResult {
  snapDir: string;
  logDir: string;
  files: string[];
  zxid: number;
  nodes: number;
  removed: string[];
}

/**
 * Copies the backup in `backupDir` (a data directory: version-2/snapshot.* and log.*) into the
 * configured directories. They must hold no snapshot or log unless `force`, which removes them
 * (and the epoch files that would contradict the restored history) first.
 */
export function restoreBackup(backupDir: string, dirs: { snapDir: string; logDir: string }, force: boolean): RestoreResult {
  const src = fs.existsSync(path.join(backupDir, VERSION_DIR)) ? path.join(backupDir, VERSION_DIR) : backupDir;
  const snaps = listDataFiles(src, SNAPSHOT_PREFIX);
  if (snaps.length === 0) throw new BackupError(`${backupDir} holds no snapshot (expected ${path.join(backupDir, VERSION_DIR, 'snapshot.<zxid>')})`);
  const warnings: string[] = [];
  const loaded = loadDatabase({ snapDir: src, logDir: src }, { logger: { info: () => {}, warn: (m) => warnings.push(m) } });
  if (warnings.length > 0) throw new BackupError(`the backup in ${backupDir} does not load cleanly: ${warnings.join('; ')}`);

  const present = [...new Set([...dataFilesIn(dirs.snapDir), ...dataFilesIn(dirs.logDir)])];
  const epochs = [CURRENT_EPOCH_FILE, ACCEPTED_EPOCH_FILE].map((f) => path.join(dirs.snapDir, f)).filter((f) => fs.existsSync(f));
  if (present.length > 0 && !force) {
    throw new BackupError(
      `${dirs.snapDir === dirs.logDir ? dirs.snapDir : `${dirs.snapDir} or ${dirs.logDir}`} already holds ${present.length} snapshot/log file(s); ` +
        'restore into an empty data directory, or pass --force to replace them',
    );
  }
  const removed = force ? [...present, ...epochs] : [];
  for (const f of removed) fs.rmSync(f);
  fs.mkdirSync(dirs.snapDir, { recursive: true });
  fs.mkdirSync(dirs.logDir, { recursive: true });
  const files: string[] = [];
  const copy = (from: string, toDir: string) => {
    const to = path.join(toDir, path.basename(from));
    const tmp = `${to}.restoring`;
    fs.copyFileSync(from, tmp);
    const fd = fs.openSync(tmp, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, to);
    files.push(to);
  };
  for (const s of snaps) copy(s.path, dirs.snapDir);
  for (const l of listDataFiles(src, LOG_PREFIX)) copy(l.path, dirs.logDir);
  fsyncDir(dirs.snapDir);
  if (dirs.logDir !== dirs.snapDir) fsyncDir(dirs.logDir);
  return { snapDir: dirs.snapDir, logDir: dirs.logDir, files, zxid: loaded.report.lastProcessedZxid, nodes: loaded.db.tree.nodeCount, removed };
}
