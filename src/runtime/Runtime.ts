// Time, timers and randomness reach the server's cores only through these seams, so the same
// objects run on Node's event loop in production and under a seeded, virtual-time scheduler in
// the deterministic simulation (test/sim).

export interface Clock {
  /** Milliseconds since the epoch (wall clock: it ends up in Stat.ctime/mtime). */
  now(): number;
}

export interface TimerHandle {
  cancel(): void;
}

/**
 * Deferred work. Contract: callbacks run one at a time, never re-entrantly from the call that
 * scheduled them; `soon` callbacks run before any timer that is due later, in the order they
 * were scheduled.
 */
export interface Scheduler {
  /** Run fn after the current event (Node: setImmediate). */
  soon(fn: () => void): void;
  /** Run fn once after delayMs. */
  after(delayMs: number, fn: () => void): TimerHandle;
  /** Run fn every periodMs until cancelled. */
  every(periodMs: number, fn: () => void): TimerHandle;
}

export interface Runtime {
  clock: Clock;
  scheduler: Scheduler;
  /** Uniform in [0, 1). */
  random(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Node's timers; handles are unref'd so a server alone does not keep a process alive past stop(). */
export const nodeScheduler: Scheduler = {
  soon(fn) {
    setImmediate(fn);
  },
  after(delayMs, fn) {
    const t = setTimeout(fn, delayMs);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  every(periodMs, fn) {
    const t = setInterval(fn, periodMs);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

export const nodeRuntime: Runtime = { clock: systemClock, scheduler: nodeScheduler, random: Math.random };
