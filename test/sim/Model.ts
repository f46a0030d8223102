// The checker's own, deliberately simple idea of the tree under /s, rebuilt from the committed
// history: an independent oracle for what replies (Stat, data, children) must say.
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn, TxnBody } from '../../src/protocol/txn.js';

export const ROOT = '/s';

export interface MNode {
  data: Buffer;
  czxid: number;
  mzxid: number;
  pzxid: number;
  version: number;
  /** Child creations (ZooKeeper's stored cversion; sequence numbers come from it). */
  creates: number;
  owner: bigint;
  container: boolean;
  children: Set<string>;
}

export interface MStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  /** As clients see it: 2 × creations − children. */
  cversion: number;
  version: number;
  owner: bigint;
  dataLength: number;
  numChildren: number;
}

const parentOf = (p: string) => p.substring(0, p.lastIndexOf('/')) || '/';
const nameOf = (p: string) => p.substring(p.lastIndexOf('/') + 1);
const inScope = (p: string) => p === ROOT || p.startsWith(ROOT + '/');

export class Model {
  readonly nodes = new Map<string, MNode>();
  readonly sessions = new Set<bigint>();
  /** Stat of the node a create/setData txn produced, by zxid: what its reply must say. */
  readonly results = new Map<number, { path: string; stat: MStat }>();
  lastZxid = 0;
  readonly violations: string[] = [];

  statOf(n: MNode): MStat {
    return {
      czxid: n.czxid, mzxid: n.mzxid, pzxid: n.pzxid, cversion: 2 * n.creates - n.children.size, version: n.version,
      owner: n.container ? 0n : n.owner, dataLength: n.data.length, numChildren: n.children.size,
    };
  }

  apply(txn: Txn): void {
    const z = txn.hdr.zxid;
    if (z <= this.lastZxid) this.violations.push(`zxid 0x${z.toString(16)} applied after 0x${this.lastZxid.toString(16)}`);
    this.lastZxid = z;
    this.applyBody(txn.hdr.clientId, z, txn.body);
  }

  private applyBody(clientId: bigint, z: number, b: TxnBody): void {
    switch (b.type) {
      case OpCode.createSession:
        this.sessions.add(clientId);
        return;
      case OpCode.closeSession: {
        const mine = [...this.nodes].filter(([, n]) => n.owner === clientId).map(([p]) => p).sort();
        const listed = [...b.paths2Delete].filter(inScope).sort();
        if (mine.join() !== listed.join()) {
          this.violations.push(`closeSession of 0x${clientId.toString(16)} at 0x${z.toString(16)} deletes [${listed}] but the session owns [${mine}]`);
        }
        for (const p of mine) this.remove(p, z);
        this.sessions.delete(clientId);
        return;
      }
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer: {
        if (!inScope(b.path)) return;
        const parent = b.path === ROOT ? null : this.nodes.get(parentOf(b.path));
        if ((b.path !== ROOT && !parent) || this.nodes.has(b.path)) {
          this.violations.push(`create ${b.path} at 0x${z.toString(16)} applied but its parent is missing or it exists`);
          return;
        }
        const seq = /-(\d{10})$/.exec(b.path);
        if (seq && parent && Number(seq[1]) !== parent.creates) {
          this.violations.push(`sequential ${b.path} at 0x${z.toString(16)}: the parent had ${parent.creates} child creations`);
        }
        const container = b.type === OpCode.createContainer;
        const ephemeral = !container && b.ephemeral;
        const n: MNode = {
          data: b.data ?? Buffer.alloc(0), czxid: z, mzxid: z, pzxid: z, version: 0, creates: 0,
          owner: ephemeral ? clientId : 0n, container, children: new Set(),
        };
        this.nodes.set(b.path, n);
        if (parent) {
          parent.children.add(nameOf(b.path));
          parent.creates++;
          parent.pzxid = z;
        }
        this.results.set(z, { path: b.path, stat: this.statOf(n) });
        return;
      }
      case OpCode.deleteContainer: {
        if (!inScope(b.path)) return;
        const n = this.nodes.get(b.path);
        if (!n || !n.container || n.children.size > 0) {
          this.violations.push(`the reaper deleted ${b.path} at 0x${z.toString(16)}, which is ${!n ? 'missing' : !n.container ? 'not a container' : 'not empty'}`);
          return;
        }
        this.remove(b.path, z);
        return;
      }
      case OpCode.delete: {
        if (!inScope(b.path)) return;
        const n = this.nodes.get(b.path);
        if (!n || n.children.size > 0) {
          this.violations.push(`delete ${b.path} at 0x${z.toString(16)} applied but it is missing or has children`);
          return;
        }
        this.remove(b.path, z);
        return;
      }
      case OpCode.setData: {
        if (!inScope(b.path)) return;
        const n = this.nodes.get(b.path);
        if (!n) {
          this.violations.push(`setData ${b.path} at 0x${z.toString(16)} applied to a missing node`);
          return;
        }
        if (b.version !== n.version + 1) this.violations.push(`setData ${b.path} at 0x${z.toString(16)} sets version ${b.version} after ${n.version}`);
        n.version = b.version;
        n.mzxid = z;
        n.data = b.data ?? Buffer.alloc(0);
        this.results.set(z, { path: b.path, stat: this.statOf(n) });
        return;
      }
      case OpCode.multi:
        for (const sub of b.txns) this.applyBody(clientId, z, sub);
        return;
      default:
        return;
    }
  }

  private remove(path: string, z: number): void {
    this.nodes.delete(path);
    const parent = this.nodes.get(parentOf(path));
    if (!parent) return;
    parent.children.delete(nameOf(path));
    if (z > parent.pzxid) parent.pzxid = z;
  }
}
