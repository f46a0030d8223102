// Session passwords are a pure function of the session id (java.util.Random seeded with
// id ^ superSecret), so they survive restarts and agree across an ensemble.
const SUPER_SECRET = 0xb3415c00n;
const MULT = 0x5deece66dn;
const MASK48 = (1n << 48n) - 1n;

export function sessionPassword(sessionId: bigint): Buffer {
  let seed = (BigInt.asUintN(64, sessionId ^ SUPER_SECRET) ^ MULT) & MASK48;
  const out = Buffer.alloc(16);
  let i = 0;
  while (i < 16) {
    seed = (seed * MULT + 0xbn) & MASK48;
    let r = Number(BigInt.asIntN(32, seed >> 16n));
    for (let n = Math.min(16 - i, 4); n-- > 0; r >>= 8) out[i++] = r & 0xff;
  }
  return out;
}

/** First session id for a server: (ms clock << 24 >>> 8) | (serverId << 56). */
export function initialSessionId(serverId: number, nowMs: number): bigint {
  let id = BigInt.asUintN(64, BigInt(nowMs) << 24n) >> 8n;
  id = BigInt.asIntN(64, id | (BigInt(serverId) << 56n));
  if (id === -0x8000000000000000n) id += 1n;
  return id;
}
