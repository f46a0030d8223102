// Every jute record of the client protocol, declared once (zookeeper.jute, 3.8).
import { bool, buffer, int, list, long, longNum, record, str, ustring, vector, type RecordOf } from '../jute/codec.js';

export const Id = record({ scheme: str, id: str });
export type Id = RecordOf<typeof Id.fields>;

export const ACL = record({ perms: int, id: Id });
export type ACL = RecordOf<typeof ACL.fields>;
export const ACLList = vector(ACL);

export const Stat = record({
  czxid: longNum,
  mzxid: longNum,
  ctime: longNum,
  mtime: longNum,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  dataLength: int,
  numChildren: int,
  pzxid: longNum,
});
export type Stat = RecordOf<typeof Stat.fields>;

export const StatPersisted = record({
  czxid: longNum,
  mzxid: longNum,
  ctime: longNum,
  mtime: longNum,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  pzxid: longNum,
});
export type StatPersisted = RecordOf<typeof StatPersisted.fields>;

export const ClientInfo = record({ authScheme: str, user: str });

// ConnectRequest/Response: the trailing readOnly byte is optional and handled by the caller.
export const ConnectRequest = record({
  protocolVersion: int,
  lastZxidSeen: longNum,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
});
export type ConnectRequest = RecordOf<typeof ConnectRequest.fields>;
export const ConnectResponse = record({ protocolVersion: int, timeOut: int, sessionId: long, passwd: buffer });
export type ConnectResponse = RecordOf<typeof ConnectResponse.fields>;

export const RequestHeader = record({ xid: int, type: int });
export const ReplyHeader = record({ xid: int, zxid: longNum, err: int });
export type ReplyHeader = RecordOf<typeof ReplyHeader.fields>;
export const MultiHeader = record({ type: int, done: bool, err: int });
export const AuthPacket = record({ type: int, scheme: str, auth: buffer });

export const CreateRequest = record({ path: str, data: buffer, acl: ACLList, flags: int });
export type CreateRequest = RecordOf<typeof CreateRequest.fields>;
export const CreateTTLRequest = record({ path: str, data: buffer, acl: ACLList, flags: int, ttl: longNum });
export type CreateTTLRequest = RecordOf<typeof CreateTTLRequest.fields>;
export const CreateResponse = record({ path: str });
export const Create2Response = record({ path: str, stat: Stat });
export const DeleteRequest = record({ path: str, version: int });
export const ExistsRequest = record({ path: str, watch: bool });
export const ExistsResponse = record({ stat: Stat });
export const GetDataRequest = record({ path: str, watch: bool });
export const GetDataResponse = record({ data: buffer, stat: Stat });
export const SetDataRequest = record({ path: str, data: buffer, version: int });
export const SetDataResponse = record({ stat: Stat });
export const GetACLRequest = record({ path: str });
export const GetACLResponse = record({ acl: ACLList, stat: Stat });
export const SetACLRequest = record({ path: str, acl: ACLList, version: int });
export const SetACLResponse = record({ stat: Stat });
export const GetChildrenRequest = record({ path: str, watch: bool });
export const GetChildrenResponse = record({ children: list(str) });
export const GetChildren2Request = record({ path: str, watch: bool });
export const GetChildren2Response = record({ children: list(str), stat: Stat });
export const GetAllChildrenNumberRequest = record({ path: str });
export const GetAllChildrenNumberResponse = record({ totalNumber: int });
export const CheckVersionRequest = record({ path: str, version: int });
export const SyncRequest = record({ path: str });
export const SyncResponse = record({ path: str });
export const ReconfigRequest = record({
  joiningServers: ustring,
  leavingServers: ustring,
  newMembers: ustring,
  curConfigId: longNum,
});
export const SetWatches = record({
  relativeZxid: longNum,
  dataWatches: list(str),
  existWatches: list(str),
  childWatches: list(str),
});
export const SetWatches2 = record({
  relativeZxid: longNum,
  dataWatches: list(str),
  existWatches: list(str),
  childWatches: list(str),
  persistentWatches: list(str),
  persistentRecursiveWatches: list(str),
});
export const AddWatchRequest = record({ path: str, mode: int });
export const CheckWatchesRequest = record({ path: str, type: int });
export const RemoveWatchesRequest = record({ path: str, type: int });
export const WatcherEvent = record({ type: int, state: int, path: str });
export type WatcherEvent = RecordOf<typeof WatcherEvent.fields>;
export const ErrorResponse = record({ err: int });
export const GetEphemeralsRequest = record({ prefixPath: ustring });
export const GetEphemeralsResponse = record({ ephemerals: list(str) });
export const WhoAmIResponse = record({ clientInfo: list(ClientInfo) });
export const GetSASLRequest = record({ token: buffer });
export const SetSASLResponse = record({ token: buffer });
