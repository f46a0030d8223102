// The node kinds ZooKeeper encodes in ephemeralOwner: a session id, the container marker, or
// the TTL marker bits with the TTL in the low 40 bits.
import { CONTAINER_EPHEMERAL_OWNER, EXTENDED_TYPE_MASK } from '../protocol/constants.js';

export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

export function kindOfOwner(owner: bigint): NodeKind {
  if (owner === 0n) return 'persistent';
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'container';
  if ((owner & EXTENDED_TYPE_MASK) === EXTENDED_TYPE_MASK) return 'ttl';
  return 'ephemeral';
}

export function ttlOfOwner(owner: bigint): number {
  return Number(owner & 0xffffffffffn);
}

export function ttlOwner(ttlMs: number): bigint {
  return BigInt.asIntN(64, EXTENDED_TYPE_MASK | BigInt(ttlMs));
}

