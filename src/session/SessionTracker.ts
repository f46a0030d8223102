// Session expiry as a pure state machine (ExpiryQueue): time comes in as numbers, expired
// session ids come out. Deadlines are rounded up to the next tick boundary.

export interface SessionInfo {
  id: bigint;
  timeoutMs: number;
  /** Deadline bucket (ms, multiple of tickTime). */
  expiresAt: number;
  closing: boolean;
}

export class SessionTracker {
  readonly sessions = new Map<bigint, SessionInfo>();
  private readonly buckets = new Map<number, Set<bigint>>();
  private nextExpiration: number;

  constructor(readonly tickTime: number, now: number) {
    this.nextExpiration = this.roundUp(now);
  }

  private roundUp(t: number): number {
    return (Math.floor(t / this.tickTime) + 1) * this.tickTime;
  }

  add(id: bigint, timeoutMs: number, now: number): SessionInfo {
    let s = this.sessions.get(id);
    if (!s) {
      s = { id, timeoutMs, expiresAt: 0, closing: false };
      this.sessions.set(id, s);
    }
    s.timeoutMs = timeoutMs;
    this.touch(id, now);
    return s;
  }

  /** Reset the session's deadline; false if it is unknown or closing. */
  touch(id: bigint, now: number): boolean {
    const s = this.sessions.get(id);
    if (!s || s.closing) return false;
    const at = this.roundUp(now + s.timeoutMs);
    if (at === s.expiresAt) return true;
    this.buckets.get(s.expiresAt)?.delete(id);
    let b = this.buckets.get(at);
    if (!b) this.buckets.set(at, (b = new Set()));
    b.add(id);
    s.expiresAt = at;
    return true;
  }

  setClosing(id: bigint): void {
    const s = this.sessions.get(id);
    if (s) s.closing = true;
  }

  isActive(id: bigint): boolean {
    const s = this.sessions.get(id);
    return !!s && !s.closing;
  }

  remove(id: bigint): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.buckets.get(s.expiresAt)?.delete(id);
    this.sessions.delete(id);
  }

  /** Advance time: returns sessions whose deadline has passed (marked closing). */
  tick(now: number): bigint[] {
    const out: bigint[] = [];
    while (this.nextExpiration <= now) {
      const b = this.buckets.get(this.nextExpiration);
      this.buckets.delete(this.nextExpiration);
      if (b) {
        for (const id of b) {
          const s = this.sessions.get(id);
          if (s && !s.closing) {
            s.closing = true;
            out.push(id);
          }
        }
      }
      this.nextExpiration += this.tickTime;
    }
    return out;
  }

  /** Buckets for the `dump` 4lw: deadline → ids. */
  expiryBuckets(): Array<[number, bigint[]]> {
    return [...this.buckets.entries()].filter(([, s]) => s.size > 0).sort((a, b) => a[0] - b[0]).map(([t, s]) => [t, [...s]]);
  }
}
