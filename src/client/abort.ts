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
    let cleanup: (() => void) | void = undefined;
    const onAbort = () => finish(() => reject(signal!.reason));
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      if (cleanup) cleanup();
      settle();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = start(
        (v) => finish(() => resolve(v)),
        (e) => finish(() => reject(e)),
      );
    } catch (e) {
      finish(() => reject(e));
    }
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

/**
 * An async iterator over values pushed by a callback source. `subscribe` starts the source and
 * returns how to stop it; it runs on the first `next()`. The iterator ends when the source calls
 * `end()` (throwing `error` if given), when the consumer stops (break/return), or when `signal`
 * aborts (throwing `signal.reason`); each way the source is unsubscribed and the abort listener
 * removed. Values pushed faster than consumed are buffered in order.
 */
export async function* pushIterator<T>(
  subscribe: (push: (v: T) => void, end: (error?: unknown) => void) => Promise<() => unknown> | (() => unknown),
  signal?: AbortSignal,
): AsyncGenerator<T, void, undefined> {
  signal?.throwIfAborted();
  const buffered: T[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  let failure: unknown;
  const push = (v: T) => {
    if (ended) return;
    buffered.push(v);
    wake?.();
  };
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    failure = error;
    wake?.();
  };
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  let unsubscribe: (() => unknown) | null = null;
  try {
    unsubscribe = await subscribe(push, end);
    for (;;) {
      signal?.throwIfAborted();
      if (buffered.length) {
        yield buffered.shift()!;
        continue;
      }
      if (ended) {
        if (failure !== undefined) throw failure;
        return;
      }
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
  } finally {
    ended = true;
    signal?.removeEventListener('abort', onAbort);
    if (unsubscribe) await unsubscribe();
  }
}
