// The event loop's analogue of ZooKeeper's JvmPauseMonitor: how long the loop was blocked. A
// perf_hooks histogram samples timer lateness continuously; once a period its largest value
// goes into jvm_pause_time_ms (the summary ZooKeeper fills with JVM pause times), so mntr's
// zk_max_jvm_pause_time_ms is the longest stall seen since the last reset.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface PauseMonitor {
  stop(): void;
}

/** Start sampling; `record` gets each period's longest delay in ms (integer, as ZooKeeper's). */
export function startEventLoopPauseMonitor(record: (ms: number) => void, periodMs = 1000, resolutionMs = 10): PauseMonitor {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  // The histogram counts lateness beyond the sampling interval; what it reports is that
  // lateness (ns), which is the time the loop could not run anything.
  const flush = () => {
    if (h.count > 0) record(Math.round(h.max / 1e6));
    h.reset();
  };
  const timer = setInterval(flush, periodMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      h.disable();
    },
  };
}
