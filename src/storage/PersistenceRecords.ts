// Jute records of ZooKeeper's persistence layer (zookeeper.jute `server.persistence`, DataNode,
// ZxidDigest): the parts of snapshot files that are not client-protocol or txn records.
import { buffer, int, long, longNum, record, type RecordOf } from '../jute/codec.js';
import { ACLList, StatPersisted } from '../protocol/records.js';

export const FileHeader = record({ magic: int, version: int, dbid: long });
export type FileHeader = RecordOf<typeof FileHeader.fields>;

/** A snapshot's session entry: global session id -> negotiated timeout (ms). */
export const SessionEntry = record({ id: long, timeOut: int });

/** One entry of the snapshot's ACL map (ReferenceCountedACLCache.serialize). */
export const ACLMapEntry = record({ index: longNum, acls: ACLList });

/** A znode as serialized after its path (DataNode.serialize): `acl` is the ACL-map index. */
export const DataNodeRecord = record({ data: buffer, acl: longNum, stat: StatPersisted });
export type DataNodeRecord = RecordOf<typeof DataNodeRecord.fields>;

/** Snapshot trailer (digest version 2 and later store the digest as a long). */
export const ZxidDigest = record({ zxid: longNum, digestVersion: int, digest: long });
export type ZxidDigest = RecordOf<typeof ZxidDigest.fields>;
