// Reads the recorded Apache ZooKeeper 3.8 quorum traffic (../shared/vectors/quorum/*.jsonl) into the
// Zab cores' message objects. A PROPOSAL/INFORM txn is the hex of its data bytes, cut from the frame's
// exact bytes; a SNAP carries the hex of the snapshot stream frame that follows it.
import fs from 'node:fs';
import path from 'node:path';
import type { ZabMessage } from '../../../src/quorum/zab/messages.js';

export const VECTOR_DIR = path.resolve(process.env.ZK_VECTORS ?? '/work/shared/vectors', 'quorum');

export type Msg = ZabMessage<string, string>;

export interface QFrame {
  seq: number;
  conn: string;
  from: number;
  to: number;
  dir: 'c2s' | 's2c';
  msg: Msg;
}

export interface VectorFile {
  header: any;
  frames: QFrame[];
}

export function vectorsAvailable(): boolean {
  return fs.existsSync(path.join(VECTOR_DIR, 'sync-initial.jsonl'));
}

function dataHex(hex: string, dataLength: number | null): string {
  if (dataLength === null || dataLength < 0) return '';
  const start = 2 * (4 + 8 + 4); // type int, zxid long, buffer length int
  return hex.slice(start, start + 2 * dataLength);
}

function toMessage(d: any, hex: string): Msg {
  const zxid = BigInt(d.zxid);
  const data = d.data;
  switch (d.typeName as string) {
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      return { type: d.typeName, zxid, sid: BigInt(data.serverid), protocolVersion: data.protocolVersion, configVersion: BigInt(data.configVersion) };
    case 'LEADERINFO':
      return { type: 'LEADERINFO', zxid, protocolVersion: data.protocolVersion };
    case 'ACKEPOCH':
      return { type: 'ACKEPOCH', zxid, currentEpoch: data.currentEpoch };
    case 'PROPOSAL':
    case 'INFORM':
      return { type: d.typeName, zxid, txn: dataHex(hex, d.dataLength) };
    case 'NEWLEADER':
      return { type: 'NEWLEADER', zxid, config: data.config };
    case 'PING':
      return {
        type: 'PING',
        zxid,
        sessions: data === null ? null : data.sessions.map((s: any) => ({ sessionId: BigInt(s.sessionId), timeout: s.timeout })),
      };
    case 'SNAP':
      return { type: 'SNAP', zxid, snapshot: '' };
    case 'REQUEST':
      return { type: 'REQUEST', zxid, sessionId: BigInt(data.sessionId), cxid: data.cxid, opType: data.type, body: new Uint8Array(), authinfo: d.authinfo };
    case 'REVALIDATE':
      return { type: 'REVALIDATE', zxid, sessionId: BigInt(data.sessionId), timeout: data.timeout, valid: data.valid };
    case 'ACK':
    case 'COMMIT':
    case 'UPTODATE':
    case 'DIFF':
    case 'TRUNC':
    case 'SYNC':
      return { type: d.typeName, zxid } as Msg;
    default:
      throw new Error(`vector packet type ${d.typeName} not mapped`);
  }
}

export function loadVector(file: string): VectorFile {
  const lines = fs.readFileSync(path.join(VECTOR_DIR, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = JSON.parse(lines[0]);
  const frames: QFrame[] = [];
  for (const line of lines.slice(1)) {
    const f = JSON.parse(line);
    if (f.port !== 'quorum' || f.forwarded === false) continue;
    if (f.kind === 'snapshot') {
      const prev = frames[frames.length - 1];
      if (prev && prev.conn === f.conn && prev.msg.type === 'SNAP') prev.msg = { ...prev.msg, snapshot: f.hex };
      continue;
    }
    frames.push({ seq: f.seq, conn: f.conn, from: f.from, to: f.to, dir: f.dir, msg: toMessage(f.decoded, f.hex) });
  }
  return { header, frames };
}

/** A message as "TYPE 0xZXID", for comparing sequences. */
export function label(m: Msg): string {
  return `${m.type} ${m.zxid < 0n ? m.zxid.toString() : '0x' + m.zxid.toString(16)}`;
}
