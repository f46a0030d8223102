// Adler-32 (RFC 1950), the checksum ZooKeeper uses for txn-log records and snapshots
// (java.util.zip.Adler32). Node's zlib does not expose it, so it is computed here.

const MOD = 65521;
/** Largest n such that 255n(n+1)/2 + (n+1)(MOD-1) fits in 2^32: sums can be deferred that long. */
const NMAX = 5552;

/** Continue a running Adler-32 `value` over buf[from, to). Start a fresh checksum with value 1. */
export function adler32(buf: Uint8Array, value = 1, from = 0, to = buf.length): number {
  let a = value & 0xffff;
  let b = (value >>> 16) & 0xffff;
  let i = from;
  while (i < to) {
    const stop = Math.min(i + NMAX, to);
    for (; i < stop; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}
