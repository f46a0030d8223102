// The reply stage for writes: the response record each write type gets, from its applied result.
import { Err, OpCode } from '../../protocol/constants.js';
import { Create2Response, CreateResponse, SetACLResponse, SetDataResponse } from '../../protocol/records.js';
import type { Txn } from '../../protocol/txn.js';
import type { ApplyResult } from '../../tree/DataTree.js';
import { MultiResponse, type MultiOpResult } from '../MultiResult.js';
import type { ClientChannel } from './ClientChannel.js';

/** Encode the answer to a write; returns the reply's size in bytes. */
export function replyToWrite(ch: ClientChannel, xid: number, type: number, txn: Txn, res: ApplyResult): number {
  const zxid = txn.hdr.zxid;
  const body = txn.body;
  if (body.type === OpCode.error) return ch.reply(xid, zxid, body.err);
  if (type === OpCode.multi) return ch.reply(xid, zxid, 0, MultiResponse, multiResults(res));
  if (res.err !== Err.OK) return ch.reply(xid, zxid, res.err);
  switch (type) {
    case OpCode.create:
      return ch.reply(xid, zxid, 0, CreateResponse, { path: res.path! });
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return ch.reply(xid, zxid, 0, Create2Response, { path: res.path!, stat: res.stat! });
    case OpCode.setData:
      return ch.reply(xid, zxid, 0, SetDataResponse, { stat: res.stat! });
    case OpCode.setACL:
      return ch.reply(xid, zxid, 0, SetACLResponse, { stat: res.stat! });
    default:
      return ch.reply(xid, zxid, 0);
  }
}

function multiResults(res: ApplyResult): MultiOpResult[] {
  return (res.results ?? []).map((r): MultiOpResult => {
    if (r.type === OpCode.error) return { type: -1, err: r.err };
    switch (r.type) {
      case OpCode.create:
      case OpCode.create2:
        return { type: 1, path: r.path! };
      case OpCode.createContainer:
      case OpCode.createTTL:
        return { type: 15, path: r.path!, stat: r.stat! };
      case OpCode.setData:
        return { type: 5, stat: r.stat! };
      case OpCode.delete:
      case OpCode.deleteContainer:
        return { type: 2 };
      default:
        return { type: 13 };
    }
  });
}
