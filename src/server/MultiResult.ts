// Encoding of MultiResponse bodies (multi and multiRead replies).
import type { Writer } from '../jute/archive.js';
import type { Codec } from '../jute/codec.js';
import { OpCode } from '../protocol/constants.js';
import {
  Create2Response, CreateResponse, ErrorResponse, GetChildrenResponse, GetDataResponse, MultiHeader, SetDataResponse,
  type Stat,
} from '../protocol/records.js';

export type MultiOpResult =
  | { type: -1; err: number }
  | { type: 1; path: string }
  | { type: 15; path: string; stat: Stat }
  | { type: 2 | 13 }
  | { type: 5; stat: Stat }
  | { type: 4; data: Buffer | null; stat: Stat }
  | { type: 8; children: string[] };

function writeOne(w: Writer, r: MultiOpResult): void {
  const err = r.type === OpCode.error ? r.err : 0;
  MultiHeader.write(w, { type: r.type, done: false, err });
  switch (r.type) {
    case -1: ErrorResponse.write(w, { err: r.err }); break;
    case 1: CreateResponse.write(w, { path: r.path }); break;
    case 15: Create2Response.write(w, { path: r.path, stat: r.stat }); break;
    case 5: SetDataResponse.write(w, { stat: r.stat }); break;
    case 4: GetDataResponse.write(w, { data: r.data, stat: r.stat }); break;
    case 8: GetChildrenResponse.write(w, { children: r.children }); break;
  }
}

export const MultiResponse: Codec<MultiOpResult[]> = {
  write(w, results) {
    for (const r of results) writeOne(w, r);
    MultiHeader.write(w, { type: -1, done: true, err: -1 });
  },
  read() {
    throw new Error('MultiResponse decoding is done by clients');
  },
};
