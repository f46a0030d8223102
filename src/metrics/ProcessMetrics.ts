// The Node.js process and runtime figures on /metrics, where ZooKeeper's Prometheus provider puts
// the JVM's (metricsProvider.exportJvmInfo). Names and types are prom-client's default metrics,
// the ones Node dashboards expect. prom-client's own collectors are not used: several of them read
// /proc with synchronous fs calls on every scrape, which would stall the event loop that serves
// clients; these read the same facts from Node's APIs or asynchronously.
//
// The figures are per process, so one registry serves every server in the process (tests start
// many) and its event-loop and GC observers are started once, on first use.
import { PerformanceObserver, monitorEventLoopDelay, constants as perfConstants, type IntervalHistogram } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { maxFileDescriptorCount, openFileDescriptorCount } from './ProcessFds.js';

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

let shared: Registry | null = null;

/** The process-wide registry of runtime metrics, created (and its observers started) on first call. */
export function processMetrics(): Registry {
  if (!shared) shared = build();
  return shared;
}

function build(): Registry {
  const registers = [new Registry()];
  const cpu = () => process.cpuUsage();
  new Counter({
    name: 'process_cpu_user_seconds_total', help: 'Total user CPU time spent in seconds.', registers,
    collect() { this.reset(); this.inc(cpu().user / 1e6); },
  });
  new Counter({
    name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', registers,
    collect() { this.reset(); this.inc(cpu().system / 1e6); },
  });
  new Counter({
    name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', registers,
    collect() { const u = cpu(); this.reset(); this.inc((u.user + u.system) / 1e6); },
  });
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  new Gauge({
    name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', registers,
    collect() { this.set(startSeconds); },
  });
  new Gauge({
    name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', registers,
    collect() { this.set(process.memoryUsage.rss()); },
  });
  new Gauge({
    name: 'process_open_fds', help: 'Number of open file descriptors.', registers,
    async collect() { this.set(await openFileDescriptorCount()); },
  });
  new Gauge({
    name: 'process_max_fds', help: 'Maximum number of open file descriptors.', registers,
    async collect() { this.set(await maxFileDescriptorCount()); },
  });

  const heap = () => process.memoryUsage();
  new Gauge({
    name: 'nodejs_heap_size_total_bytes', help: 'Process heap size from Node.js in bytes.', registers,
    collect() { this.set(heap().heapTotal); },
  });
  new Gauge({
    name: 'nodejs_heap_size_used_bytes', help: 'Process heap size used from Node.js in bytes.', registers,
    collect() { this.set(heap().heapUsed); },
  });
  new Gauge({
    name: 'nodejs_external_memory_bytes', help: 'Node.js external memory size in bytes.', registers,
    collect() { this.set(heap().external); },
  });
  const space = (name: string, help: string, pick: (s: v8.HeapSpaceInfo) => number) => new Gauge({
    name, help, labelNames: ['space'] as const, registers,
    collect() {
      for (const s of v8.getHeapSpaceStatistics()) this.set({ space: s.space_name.replace(/_space$/, '') }, pick(s));
    },
  });
  space('nodejs_heap_space_size_total_bytes', 'Process heap space size total from Node.js in bytes.', (s) => s.space_size);
  space('nodejs_heap_space_size_used_bytes', 'Process heap space size used from Node.js in bytes.', (s) => s.space_used_size);
  space('nodejs_heap_space_size_available_bytes', 'Process heap space size available from Node.js in bytes.', (s) => s.space_available_size);

  // The event loop's delay is what a client sees as a stall; sampled every 10 ms like prom-client.
  const lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const loop = (name: string, help: string, read: (h: IntervalHistogram) => number) => new Gauge({
    name, help, registers,
    collect() { this.set(lag.count === 0 ? 0 : read(lag) / 1e9); },
  });
  loop('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', (h) => h.min);
  loop('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', (h) => h.max);
  loop('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', (h) => h.mean);
  loop('nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays.', (h) => h.stddev);
  loop('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', (h) => h.percentile(50));
  loop('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.', (h) => h.percentile(90));
  loop('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', (h) => h.percentile(99));

  const gc = new Histogram({
    name: 'nodejs_gc_duration_seconds', help: 'Garbage collection duration by kind, one of minor, major, incremental or weakcb.',
    labelNames: ['kind'] as const, buckets: [0.001, 0.01, 0.1, 1, 2, 5], registers,
  });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const detail = (e as PerformanceEntry & { detail?: { kind?: number } }).detail;
      const kind = GC_KINDS[detail?.kind ?? -1] ?? 'unknown';
      gc.observe({ kind }, e.duration / 1000);
    }
  }).observe({ entryTypes: ['gc'] });

  new Gauge({
    name: 'nodejs_version_info', help: 'Node.js version info.', labelNames: ['version', 'major', 'minor', 'patch'] as const, registers,
    collect() {
      const [major, minor, patch] = process.versions.node.split('.');
      this.set({ version: process.version, major: major!, minor: minor!, patch: patch! }, 1);
    },
  });
  return registers[0]!;
}
