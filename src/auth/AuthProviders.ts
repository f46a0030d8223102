// Authentication schemes: what an auth packet adds to a connection, how ACL ids are
// validated, and how an ACL entry matches a caller's identity.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

export interface Identity {
  scheme: string;
  id: string;
}

/** digest id for "user:password" = user:BASE64(SHA1("user:password")). */
export function digestId(userPassword: string): string {
  const user = userPassword.split(':', 1)[0];
  const hash = createHash('sha1').update(userPassword, 'utf8').digest('base64');
  return `${user}:${hash}`;
}

function ipv4Bytes(s: string): number[] | null {
  if (isIP(s) !== 4) return null;
  return s.split('.').map((x) => Number(x));
}

function ipv6Bytes(s: string): number[] | null {
  if (isIP(s) !== 6) return null;
  // Expand '::' and an embedded IPv4 tail into 16 bytes.
  let head = s, tail4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > 0) {
    tail4 = ipv4Bytes(s.substring(lastColon + 1)) ?? [];
    head = s.substring(0, lastColon + 1) + '0:0';
  }
  const [l, r] = head.split('::') as [string, string | undefined];
  const left = l ? l.split(':') : [];
  const right = r !== undefined && r !== '' ? r.split(':') : [];
  const fill = r === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array(fill).fill('0'), ...right].map((g) => parseInt(g, 16));
  const out: number[] = [];
  for (const g of groups) out.push((g >> 8) & 0xff, g & 0xff);
  if (tail4.length) out.splice(12, 4, ...tail4);
  return out.length === 16 ? out : null;
}

function addrBytes(s: string): number[] | null {
  if (s.startsWith('::ffff:') && isIP(s.substring(7)) === 4) return ipv4Bytes(s.substring(7));
  return ipv4Bytes(s) ?? ipv6Bytes(s);
}

function parseIpAcl(id: string): { bytes: number[]; bits: number } | null {
  const slash = id.indexOf('/');
  const addr = slash >= 0 ? id.substring(0, slash) : id;
  const bytes = ipv4Bytes(addr) ?? ipv6Bytes(addr);
  if (!bytes) return null;
  let bits = bytes.length * 8;
  if (slash >= 0) {
    const b = id.substring(slash + 1);
    if (!/^\d+$/.test(b)) return null;
    bits = Number(b);
    if (bits < 0 || bits > bytes.length * 8) return null;
  }
  return { bytes, bits };
}

export function ipMatches(aclId: string, remote: string): boolean {
  const acl = parseIpAcl(aclId);
  const addr = addrBytes(remote);
  if (!acl || !addr || acl.bytes.length !== addr.length) return false;
  for (let i = 0; i < acl.bits; i++) {
    const byte = i >> 3, mask = 0x80 >> (i & 7);
    if ((acl.bytes[byte]! & mask) !== (addr[byte]! & mask)) return false;
  }
  return true;
}

/** Whether an ACL id is well formed for its scheme (world/auth handled by the caller). */
export function isValidAclId(scheme: string, id: string): boolean {
  switch (scheme) {
    case 'digest':
      return id.split(':').length === 2;
    case 'ip':
      return parseIpAcl(id) !== null;
    default:
      return false;
  }
}

/** Schemes whose identities the `auth` ACL scheme expands to (not ip). */
export function isAuthenticatedScheme(scheme: string): boolean {
  return scheme === 'digest' || scheme === 'super';
}

export function matches(scheme: string, aclId: string, identity: Identity): boolean {
  if (scheme !== identity.scheme) return false;
  if (scheme === 'ip') return ipMatches(aclId, identity.id);
  return aclId === identity.id;
}

/** Normalise a remote address as ZooKeeper reports it (IPv4-mapped IPv6 → IPv4). */
export function normaliseAddress(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && isIP(addr.substring(7)) === 4 ? addr.substring(7) : addr;
}

/**
 * Handle an auth packet: the identities to add to the connection, or null for AuthFailed.
 * Digest never fails (a wrong password simply yields a non-matching identity).
 */
export function authenticate(
  scheme: string,
  auth: Buffer | null,
  remoteAddress: string,
  superDigest: string | undefined,
): Identity[] | null {
  if (scheme === 'digest') {
    const text = (auth ?? Buffer.alloc(0)).toString('utf8');
    const id = digestId(text);
    const out: Identity[] = [{ scheme: 'digest', id }];
    if (superDigest !== undefined && id === superDigest) out.push({ scheme: 'super', id: '' });
    return out;
  }
  if (scheme === 'ip') return [{ scheme: 'ip', id: remoteAddress }];
  return null;
}

function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Identities in the iteration order of ZooKeeper's per-connection identity set (a
 * ConcurrentHashMap keyed by Id): clients see it in whoAmI and in `auth` ACL expansion.
 */
export function javaSetOrder(ids: Identity[]): Identity[] {
  let n = 16;
  while (ids.length > n * 0.75) n *= 2;
  const bucket = (id: Identity) => {
    const h = (Math.imul(37, Math.imul(37, 17) + javaStringHash(id.scheme)) + javaStringHash(id.id)) | 0;
    return ((h ^ (h >>> 16)) & 0x7fffffff) & (n - 1);
  };
  return ids.map((id, i) => ({ id, i, b: bucket(id) })).sort((x, y) => x.b - y.b || x.i - y.i).map((x) => x.id);
}
