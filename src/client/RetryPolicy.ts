// Retry policies in Curator's shape: after a retryable failure (see ZooKeeperError.isRetryable)
// the policy says how long to sleep before the next attempt, or that no attempt is left.

export interface RetryPolicy {
  /**
   * `retryCount` is 0 before the first retry; `elapsedMs` is the time since the first attempt
   * began. Returns the pause in ms before retrying, or false to give up (the last error is thrown).
   */
  allowRetry(retryCount: number, elapsedMs: number): number | false;
}

function checkNonNegative(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
}

/** Sleeps a random multiple of `baseSleepMs` that doubles its range each retry, capped at `maxSleepMs`. */
export class ExponentialBackoffRetry implements RetryPolicy {
  /** Curator caps retries at 29 so that the random range (1 << (n + 1)) stays a positive int. */
  static readonly MAX_RETRIES_LIMIT = 29;
  readonly maxRetries: number;

  constructor(
    readonly baseSleepMs: number,
    maxRetries: number,
    readonly maxSleepMs = Number.MAX_SAFE_INTEGER,
  ) {
    checkNonNegative('baseSleepMs', baseSleepMs);
    checkNonNegative('maxRetries', maxRetries);
    checkNonNegative('maxSleepMs', maxSleepMs);
    this.maxRetries = Math.min(Math.floor(maxRetries), ExponentialBackoffRetry.MAX_RETRIES_LIMIT);
  }

  sleepFor(retryCount: number): number {
    const range = 2 ** (retryCount + 1);
    const sleep = this.baseSleepMs * Math.max(1, Math.floor(Math.random() * range));
    return Math.min(sleep, this.maxSleepMs);
  }

  allowRetry(retryCount: number): number | false {
    return retryCount < this.maxRetries ? this.sleepFor(retryCount) : false;
  }
}

/** Up to `n` retries, `sleepMs` apart. */
export class RetryNTimes implements RetryPolicy {
  constructor(
    readonly n: number,
    readonly sleepMs: number,
  ) {
    checkNonNegative('n', n);
    checkNonNegative('sleepMs', sleepMs);
  }
  allowRetry(retryCount: number): number | false {
    return retryCount < this.n ? this.sleepMs : false;
  }
}

/** One retry after `sleepMs`. */
export class RetryOneTime extends RetryNTimes {
  constructor(sleepMs: number) {
    super(1, sleepMs);
  }
}

/** Retries `sleepMs` apart until `maxElapsedMs` has passed since the first attempt. */
export class RetryUntilElapsed implements RetryPolicy {
  constructor(
    readonly maxElapsedMs: number,
    readonly sleepMs: number,
  ) {
    checkNonNegative('maxElapsedMs', maxElapsedMs);
    checkNonNegative('sleepMs', sleepMs);
  }
  allowRetry(_retryCount: number, elapsedMs: number): number | false {
    return elapsedMs < this.maxElapsedMs ? Math.min(this.sleepMs, this.maxElapsedMs - elapsedMs) : false;
  }
}

/** Retries forever, `sleepMs` apart (abort the call's signal to stop). */
export class RetryForever implements RetryPolicy {
  constructor(readonly sleepMs: number) {
    checkNonNegative('sleepMs', sleepMs);
  }
  allowRetry(): number {
    return this.sleepMs;
  }
}
