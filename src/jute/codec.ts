// Typed codec combinators: a record is declared once as an ordered field table and its
// encoder, decoder and TypeScript type are all derived from that declaration.
import { Reader, Writer } from './archive.js';

export interface Codec<T> {
  write(w: Writer, v: T): void;
  read(r: Reader): T;
}

export type Infer<C> = C extends Codec<infer T> ? T : never;

export const int: Codec<number> = { write: (w, v) => void w.int(v), read: (r) => r.int() };
export const long: Codec<bigint> = { write: (w, v) => void w.long(v), read: (r) => r.long() };
/** A jute long carried as a JS number: zxids and millisecond times. */
export const longNum: Codec<number> = { write: (w, v) => void w.longNum(v), read: (r) => r.longNum() };
export const bool: Codec<boolean> = { write: (w, v) => void w.bool(v), read: (r) => r.bool() };
export const buffer: Codec<Buffer | null> = { write: (w, v) => void w.buffer(v), read: (r) => r.buffer() };
export const ustring: Codec<string | null> = { write: (w, v) => void w.ustring(v), read: (r) => r.ustring() };
/** A ustring the protocol never sends as null in practice; null decodes as ''. */
export const str: Codec<string> = { write: (w, v) => void w.ustring(v), read: (r) => r.ustring() ?? '' };

export function vector<T>(elem: Codec<T>): Codec<T[] | null> {
  return {
    write(w, v) {
      if (v == null) {
        w.int(-1);
        return;
      }
      w.int(v.length);
      for (const e of v) elem.write(w, e);
    },
    read(r) {
      const n = r.vectorLength();
      if (n === -1) return null;
      const out: T[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = elem.read(r);
      return out;
    },
  };
}

/** Like vector() but null decodes as [] (for lists where the distinction is irrelevant). */
export function list<T>(elem: Codec<T>): Codec<T[]> {
  const v = vector(elem);
  return { write: (w, x) => v.write(w, x), read: (r) => v.read(r) ?? [] };
}

type Fields = Record<string, Codec<any>>;
export type RecordOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

export interface RecordCodec<F extends Fields> extends Codec<RecordOf<F>> {
  readonly fields: F;
  encode(v: RecordOf<F>): Buffer;
  decode(b: Buffer): RecordOf<F>;
  /** Read the fields into `o` (which may already hold others, e.g. a txn body's type): no second object. */
  readInto<O extends object>(r: Reader, o: O): O & RecordOf<F>;
}

export function record<F extends Fields>(fields: F): RecordCodec<F> {
  const names = Object.keys(fields);
  const codecs = names.map((n) => fields[n]!);
  const count = names.length;
  // Decoded records come from a constructor of their own rather than `{}`: V8 then sizes them
  // for the fields this record has (from the first few made), where `{}` has room for four
  // and puts the rest in a second, separate allocation. Its prototype is Object.prototype, so
  // the objects are plain ones, equal to literals under deepStrictEqual.
  const Shape = function (this: object) {} as unknown as new () => object;
  Shape.prototype = Object.prototype;
  const rc: RecordCodec<F> = {
    fields,
    write(w, v) {
      const o = v as Record<string, unknown>;
      for (let i = 0; i < count; i++) codecs[i]!.write(w, o[names[i]!]);
    },
    read(r) {
      return rc.readInto(r, new Shape());
    },
    readInto<O extends object>(r: Reader, target: O) {
      const o = target as Record<string, unknown>;
      for (let i = 0; i < count; i++) o[names[i]!] = codecs[i]!.read(r);
      return o as O & RecordOf<F>;
    },
    encode(v) {
      const w = new Writer();
      rc.write(w, v);
      return w.toBuffer();
    },
    decode(b) {
      return rc.read(new Reader(b));
    },
  };
  return rc;
}
