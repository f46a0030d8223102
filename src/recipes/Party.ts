// kazoo's Party and ShallowParty, in kazoo's node layout so Python and Node members of one path
// see each other. Party: each member is an ephemeral `<uuid hex>__party__` node holding its
// identifier; members are the data of children whose names contain `__party__`. ShallowParty: the
// identifier is in the name, `<uuid hex>-<identifier>`, so listing members takes one call.
import { randomUUID } from 'node:crypto';
import { Err } from '../protocol/constants.js';
import { isZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { deleteQuietly, ensurePath, isConnectionProblem, retrying } from './support.js';

abstract class BaseParty {
  protected readonly nodePath: string;
  private joined = false;

  constructor(
    readonly zk: ZooKeeper,
    readonly path: string,
    readonly identifier: string,
    nodeName: string,
  ) {
    this.nodePath = joinPath(path, nodeName);
  }

  get participating(): boolean {
    return this.joined;
  }

  /** Joins (idempotent: a create whose reply was lost is found by its name on the retry). */
  async join(options: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    await ensurePath(this.zk, this.path, signal);
    for (;;) {
      try {
        await this.zk.create(this.nodePath, this.identifier, { mode: 'EPHEMERAL', signal });
        break;
      } catch (e) {
        if (isZooKeeperError(e, Err.NodeExists)) break;
        if (!isConnectionProblem(e)) throw e;
        await this.zk.waitConnected({ signal });
      }
    }
    this.joined = true;
  }

  async leave(): Promise<void> {
    this.joined = false;
    await deleteQuietly(this.zk, this.nodePath);
  }

  protected async children(): Promise<string[]> {
    await ensurePath(this.zk, this.path);
    return retrying(this.zk, () => this.zk.getChildren(this.path));
  }

  /** Identifiers of the current members. */
  abstract members(): Promise<string[]>;

  async size(): Promise<number> {
    return (await this.members()).length;
  }
}

const PARTY = '__party__';

export class Party extends BaseParty {
  constructor(zk: ZooKeeper, path: string, identifier = '') {
    super(zk, path, identifier, randomUUID().replace(/-/g, '') + PARTY);
  }

  async members(): Promise<string[]> {
    const out: string[] = [];
    for (const c of (await this.children()).filter((c) => c.includes(PARTY))) {
      try {
        out.push((await retrying(this.zk, () => this.zk.getData(joinPath(this.path, c)))).data?.toString('utf8') ?? '');
      } catch (e) {
        if (!isZooKeeperError(e, Err.NoNode)) throw e; // left meanwhile
      }
    }
    return out;
  }
}

export class ShallowParty extends BaseParty {
  constructor(zk: ZooKeeper, path: string, identifier = '') {
    if (identifier.includes('/')) throw new TypeError('a ShallowParty identifier becomes part of a node name and cannot contain "/"');
    super(zk, path, identifier, `${randomUUID().replace(/-/g, '')}-${identifier}`);
  }

  async members(): Promise<string[]> {
    return (await this.children()).map((c) => c.slice(c.indexOf('-') + 1));
  }
}
