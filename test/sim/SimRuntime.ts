// Virtual time and seeded randomness for the deterministic simulation: events run one at a time in
// (time, insertion) order, so a seed replays exactly.
import type { Clock, Runtime, Scheduler, TimerHandle } from '../../src/runtime/Runtime.js';
export { seededRandom } from '../support/random.js';

interface Event {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  /** Events of a crashed server incarnation never run. */
  owner: number;
}

export class SimScheduler implements Clock {
  private events: Event[] = [];
  private seq = 0;
  private dead = new Set<number>();
  time: number;
  steps = 0;

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void, owner = 0): Event {
    const ev: Event = { at: this.time + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false, owner };
    // Insertion into a sorted array: the queues here stay small (tens of events).
    let i = this.events.length;
    while (i > 0 && (this.events[i - 1]!.at > ev.at || (this.events[i - 1]!.at === ev.at && this.events[i - 1]!.seq > ev.seq))) i--;
    this.events.splice(i, 0, ev);
    return ev;
  }

  /** Everything an incarnation scheduled is dropped (its process is gone). */
  kill(owner: number): void {
    this.dead.add(owner);
  }

  /** Run the next event; false when none is left. */
  step(): boolean {
    for (;;) {
      const ev = this.events.shift();
      if (!ev) return false;
      if (ev.cancelled || this.dead.has(ev.owner)) continue;
      this.time = ev.at;
      this.steps++;
      ev.fn();
      return true;
    }
  }

  /** The Runtime one server incarnation sees. */
  runtime(owner: number, random: () => number): Runtime {
    const self = this;
    const scheduler: Scheduler = {
      soon: (fn) => void self.schedule(0, fn, owner),
      after(delayMs, fn): TimerHandle {
        const ev = self.schedule(delayMs, fn, owner);
        return { cancel: () => (ev.cancelled = true) };
      },
      every(periodMs, fn): TimerHandle {
        let ev: Event;
        const tick = () => {
          fn();
          ev = self.schedule(periodMs, tick, owner);
        };
        ev = self.schedule(periodMs, tick, owner);
        return { cancel: () => (ev.cancelled = true) };
      },
    };
    return { clock: this, scheduler, random };
  }
}

/** Let promise callbacks (a resolved append's .then) run before the next event. */
export async function settleMicrotasks(): Promise<void> {
  for (let i = 0; i < 6; i++) await null;
}
