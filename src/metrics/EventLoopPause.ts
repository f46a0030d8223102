// The event loop's analogue of ZooKeeper's JvmPauseMonitor: how long the loop was blocked. A
// perf_hooks histogram samples timer lateness continuously; once a period its largest value
// goes into jvm_pause_time_ms (the summary ZooKeeper fills with JVM pause times), so mntr's
// zk_max_jvm_pause_time_ms is the longest stall seen since the last reset.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface PauseMonitor {
  /**
   * Forget the period under way (srst): without this a stall from before the reset, still in
   * the histogram, would be recorded after it (issue 10: a storm of 10,000 requests just before
   * srst showed up as the stall of the fan-out measured after it).
   */
  reset(): void;
  stop(): void;
}

/** Start sampling; `record` gets each period's longest stall in ms (integer, as ZooKeeper's). */
export function startEventLoopPauseMonitor(record: (ms: number) => void, periodMs = 1000, resolutionMs = 10): PauseMonitor {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  // Node's histogram holds the time between two firings of its `resolutionMs` timer: a stall of
  // S ms reads between S and S + resolutionMs (an idle loop reads about resolutionMs). The raw
  // value is kept, an upper bound rather than a guess.
  const flush = () => {
    if (h.count > 0) record(Math.round(h.max / 1e6));
    h.reset();
  };
  const timer = setInterval(flush, periodMs);
  timer.unref();
  return {
    reset() {
      h.reset();
    },
    stop() {
      clearInterval(timer);
      h.disable();
    },
  };
}
