// Parses "host1:port1,host2:port2/chroot" and hands out hosts in shuffled round-robin order,
// the way the Java client's StaticHostProvider does, so clients spread over an ensemble.
import { validatePath } from './paths.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface ParsedConnectString {
  hosts: HostPort[];
  /** Normalised chroot without trailing slash, or '' when none. */
  chroot: string;
}

const DEFAULT_PORT = 2181;

function parseHost(spec: string): HostPort {
  const s = spec.trim();
  if (s === '') throw new Error('empty host in connection string');
  // [v6addr]:port, v6addr without port, host:port, host
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new Error(`bad IPv6 host: ${s}`);
    const host = s.slice(1, close);
    const rest = s.slice(close + 1);
    return { host, port: rest.startsWith(':') ? parsePort(rest.slice(1), s) : DEFAULT_PORT };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) return { host: s, port: DEFAULT_PORT };
  if (s.indexOf(':') !== colon) return { host: s, port: DEFAULT_PORT }; // bare IPv6 address
  return { host: s.slice(0, colon), port: parsePort(s.slice(colon + 1), s) };
}

function parsePort(p: string, spec: string): number {
  const n = Number(p);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`bad port in "${spec}"`);
  return n;
}

export function parseConnectString(connectString: string): ParsedConnectString {
  let hostsPart = connectString;
  let chroot = '';
  const slash = connectString.indexOf('/');
  if (slash >= 0) {
    hostsPart = connectString.slice(0, slash);
    chroot = connectString.slice(slash);
    if (chroot === '/') chroot = '';
    else {
      validatePath(chroot);
    }
  }
  const hosts = hostsPart.split(',').filter((h) => h.trim() !== '').map(parseHost);
  if (hosts.length === 0) throw new Error(`no hosts in connection string "${connectString}"`);
  return { hosts, chroot };
}

export function shuffle<T>(items: T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/** Cycles through a shuffled host list; reports when a full round has been tried without success. */
export class HostProvider {
  private readonly hosts: HostPort[];
  private index = -1;
  private attemptsSinceConnected = 0;

  constructor(hosts: HostPort[], shuffleHosts = true) {
    this.hosts = shuffleHosts ? shuffle(hosts) : hosts.slice();
  }

  get size(): number {
    return this.hosts.length;
  }

  next(): HostPort {
    this.index = (this.index + 1) % this.hosts.length;
    this.attemptsSinceConnected++;
    return this.hosts[this.index]!;
  }

  /** True when every host has been tried since the last successful connection. */
  roundExhausted(): boolean {
    return this.attemptsSinceConnected >= this.hosts.length;
  }

  onConnected(): void {
    this.attemptsSinceConnected = 0;
  }
}
