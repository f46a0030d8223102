// Console logins. Each browser login holds its own ZooKeeper session on this server's client
// port, authenticated with addAuth('digest', user:password), so every read and write the console
// makes is checked by the server against that user's ACL identities exactly as any client's.
// The browser keeps only an opaque id in an HttpOnly SameSite=Strict cookie; state-changing
// requests must also carry the login's CSRF token, which only the console's own page can read.
//
// That client connects over loopback, so the server would give its connection the identity
// ip:127.0.0.1 — more than the browser has when it is elsewhere. Each time the client
// (re)connects, the server-side connection of its session is re-identified with the browser's
// address instead, synchronously in the client's 'connected' event, before the client can send a
// request on it (both ends run in this process; the server reads the socket in a later turn).
import crypto from 'node:crypto';
import { ZooKeeper } from '../../client/index.js';
import type { ServerView } from '../ServerView.js';
import type { Identity } from '../../auth/AuthProviders.js';

export const COOKIE = 'zkconsole';
/** A login unused this long is closed, ending its ZooKeeper session. */
export const IDLE_MS = 15 * 60 * 1000;
/** Logins held at once; past this, new logins are refused (others' logins are never evicted). */
export const MAX_LOGINS = 256;
/** Logins one browser address holds; its least recently used one goes first past this. */
export const MAX_LOGINS_PER_ADDRESS = 16;

export interface Login {
  readonly id: string;
  readonly csrf: string;
  readonly user: string;
  /** The browser's address, whose ip identity the login's connection carries. */
  readonly address: string;
  readonly zk: ZooKeeper;
  lastUsed: number;
}

/** Where the console's own client connects: the bound client port, on loopback when bound to a wildcard. */
export function clientAddress(view: ServerView): string {
  const a = view.config.clientPortAddress;
  const host = !a || a === '0.0.0.0' || a === '::' ? '127.0.0.1' : a;
  return host.includes(':') ? `[${host}]:${view.port}` : `${host}:${view.port}`;
}

export class Sessions {
  private readonly logins = new Map<string, Login>();
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly view: ServerView) {}

  get size(): number {
    return this.logins.size;
  }

  /** Opens a ZooKeeper session for `user` and authenticates it; rejects if the server is not serving. */
  async login(user: string, password: string, browserAddress: string): Promise<Login> {
    if (this.closed) throw new Error('console closed');
    const mine = [...this.logins.values()].filter((l) => l.address === browserAddress);
    // Least recently used first (find() moves a used login to the end).
    for (let i = 0; i <= mine.length - MAX_LOGINS_PER_ADDRESS; i++) this.drop(mine[i]!.id);
    if (this.logins.size >= MAX_LOGINS) throw new Error(`${MAX_LOGINS} console logins are open already`);
    const zk = new ZooKeeper(clientAddress(this.view), { sessionTimeout: 30000, requestTimeout: 10000 });
    zk.on('connected', () => {
      // Never act with an identity the browser does not have: no rebinding, no session.
      if (!this.rebind(zk.getSessionId(), browserAddress)) void zk.close();
    });
    try {
      await zk.waitConnected({ timeoutMs: 5000 });
      await zk.addAuth('digest', `${user}:${password}`);
    } catch (e) {
      await zk.close();
      throw e;
    }
    if (this.closed) {
      await zk.close();
      throw new Error('console closed');
    }
    const login: Login = {
      id: crypto.randomBytes(32).toString('base64url'),
      csrf: crypto.randomBytes(32).toString('base64url'),
      user,
      address: browserAddress,
      zk,
      lastUsed: Date.now(),
    };
    this.logins.set(login.id, login);
    // The session is useless once the server has expired it; forget the login then.
    zk.on('expired', () => this.drop(login.id));
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), 60_000);
      this.sweeper.unref();
    }
    return login;
  }

  /** Gives the server-side connection of `sessionId` the browser's ip identity in place of its own. */
  private rebind(sessionId: bigint, browserAddress: string): boolean {
    for (const c of this.view.connections) {
      if (c.sessionId !== sessionId || c.closed) continue;
      const ids: Identity[] = c.identities.filter((i) => i.scheme !== 'ip');
      c.identities.length = 0;
      c.identities.push({ scheme: 'ip', id: browserAddress }, ...ids);
      return true;
    }
    return false;
  }

  /** The login named by the request's cookie, refreshed as most recently used. */
  find(cookieHeader: string | undefined): Login | null {
    const id = readCookie(cookieHeader, COOKIE);
    if (!id) return null;
    const l = this.logins.get(id);
    if (!l) return null;
    if (Date.now() - l.lastUsed > IDLE_MS) {
      this.drop(id);
      return null;
    }
    l.lastUsed = Date.now();
    this.logins.delete(id);
    this.logins.set(id, l);
    return l;
  }

  drop(id: string): void {
    const l = this.logins.get(id);
    if (!l) return;
    this.logins.delete(id);
    void l.zk.close();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, l] of this.logins) if (now - l.lastUsed > IDLE_MS) this.drop(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    const all = [...this.logins.values()];
    this.logins.clear();
    await Promise.all(all.map((l) => l.zk.close()));
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Constant-time comparison of two tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
