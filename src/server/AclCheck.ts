// Permission checks and the ACL fix-up applied to create/setACL (PrepRequestProcessor.fixupACL).
import { Err, ZkError } from '../protocol/constants.js';
import type { ACL } from '../protocol/records.js';
import { isAuthenticatedScheme, isValidAclId, javaSetOrder, matches, type Identity } from '../auth/AuthProviders.js';

export function hasPerm(acl: ACL[], perm: number, ids: Identity[], skipACL: boolean): boolean {
  if (skipACL || acl.length === 0) return true;
  for (const id of ids) if (id.scheme === 'super') return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.id.scheme === 'world' && a.id.id === 'anyone') return true;
    for (const id of ids) if (matches(a.id.scheme, a.id.id, id)) return true;
  }
  return false;
}

export function checkPerm(acl: ACL[], perm: number, ids: Identity[], skipACL: boolean): void {
  if (!hasPerm(acl, perm, ids, skipACL)) throw new ZkError(Err.NoAuth);
}

/** Dedupe, validate and expand `auth` entries; InvalidACL on anything ZooKeeper rejects. */
export function fixupACL(acl: ACL[] | null, ids: Identity[]): ACL[] {
  if (acl == null || acl.length === 0) throw new ZkError(Err.InvalidACL);
  const seen = new Set<string>();
  const unique: ACL[] = [];
  for (const a of acl) {
    const k = `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}`;
    if (seen.has(k)) continue;
    seen.add(k);
    unique.push(a);
  }
  const out: ACL[] = [];
  for (const a of unique) {
    const { scheme, id } = a.id;
    if (scheme === 'world') {
      if (id !== 'anyone') throw new ZkError(Err.InvalidACL);
      out.push(a);
    } else if (scheme === 'auth') {
      let any = false;
      for (const ident of javaSetOrder(ids)) {
        if (!isAuthenticatedScheme(ident.scheme) || ident.scheme === 'super') continue;
        out.push({ perms: a.perms, id: { scheme: ident.scheme, id: ident.id } });
        any = true;
      }
      if (!any) throw new ZkError(Err.InvalidACL);
    } else {
      if (!isValidAclId(scheme, id)) throw new ZkError(Err.InvalidACL);
      out.push(a);
    }
  }
  return out;
}

/** getACL for a caller with READ but not ADMIN: digest ids are masked as user:x. */
export function maskDigests(acl: ACL[]): ACL[] {
  return acl.map((a) =>
    a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.split(':')[0] + ':x' } } : a,
  );
}
