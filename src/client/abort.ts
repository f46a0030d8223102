// AbortSignal plumbing shared by the client and the recipes. Every wait that takes a signal
// rejects with `signal.reason` (a DOMException named AbortError unless the caller chose another
// reason) and removes its listener and timer whichever way it ends, so a long-lived signal
// passed to many calls does not accumulate listeners.

export interface AbortOptions {
  /** Abandons the wait: the promise rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
}

/**
 * Runs `start(resolve, reject)` and settles with it, unless `signal` aborts first. `start` returns
 * its own cleanup (clear timers, remove listeners), called exactly once however the wait ends.
 */
export function abortableWait<T>(
  signal: AbortSignal | undefined,
  start: (resolve: (v: T) => void, reject: (e: unknown) => void) => (() => void) | void,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let cleanup: (() => void) | void;
    const onAbort = () => finish(() => reject(signal!.reason));
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      if (cleanup) cleanup();
      settle();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(
      (v) => finish(() => resolve(v)),
      (e) => finish(() => reject(e)),
    );
    // `start` may have settled synchronously, before `cleanup` was known.
    if (done && cleanup) cleanup();
  });
}

/** Resolves after `ms` (rejects when `signal` aborts first). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableWait<void>(signal, (resolve) => {
    const t = setTimeout(resolve, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    return () => clearTimeout(t);
  });
}

/** Settles like `p`, or rejects with `signal.reason` as soon as `signal` aborts (`p` keeps running). */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return abortableWait<T>(signal, (resolve, reject) => {
    p.then(resolve, reject);
  });
}

/** True when `e` is the rejection of an aborted signal (the default reason, or `signal.reason`). */
export function isAbortError(e: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted && e === signal.reason) return true;
  return e instanceof Error && e.name === 'AbortError';
}
