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

/** A running checksum fed piece by piece (snapshots are checksummed as one stream). */
export class RunningAdler32 {
  value = 1;

  update(buf: Uint8Array, from = 0, to = buf.length): void {
    this.value = adler32(buf, this.value, from, to);
  }
}

/**
 * Checksum of A followed by B from the checksums of A and B and B's length (zlib's
 * adler32_combine): lets a snapshot checksum its node section as it is produced, before the
 * header that precedes it in the file is known.
 */
export function adler32Combine(adlerA: number, adlerB: number, lengthB: number): number {
  const rem = lengthB % MOD;
  let sum1 = adlerA & 0xffff;
  let sum2 = (rem * sum1) % MOD;
  sum1 += (adlerB & 0xffff) + MOD - 1;
  sum2 += ((adlerA >>> 16) & 0xffff) + ((adlerB >>> 16) & 0xffff) + MOD - rem;
  if (sum1 >= MOD) sum1 -= MOD;
  if (sum1 >= MOD) sum1 -= MOD;
  if (sum2 >= MOD * 2) sum2 -= MOD * 2;
  if (sum2 >= MOD) sum2 -= MOD;
  return ((sum2 << 16) | sum1) >>> 0;
}
