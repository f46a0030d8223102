// Summaries recorded on the request path. Recording is a few arithmetic operations and one
// array store (about 10 ns); prom-client's own Summary.observe feeds a t-digest (about 110 ns
// measured), too much for a path that serves ~400k reads/s. So the values live here and the
// prom-client objects read them when scraped (their get() is overridden below).
import { Summary, type MetricType, type Registry } from 'prom-client';

/** count/sum/min/max as ZooKeeper's AvgMinMaxCounter reports them. */
export class AvgMinMax {
  count = 0;
  total = 0;
  private lo = Infinity;
  private hi = -Infinity;

  add(v: number): void {
    this.count++;
    this.total += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  get min(): number {
    return this.count ? this.lo : 0;
  }
  get max(): number {
    return this.count ? this.hi : 0;
  }
  /** Mean rounded half-up to 4 decimals, as ZooKeeper prints it (0 when empty). */
  get avg(): number {
    if (!this.count) return 0;
    return Math.round((this.total / this.count) * 10000) / 10000;
  }

  reset(): void {
    this.count = 0;
    this.total = 0;
    this.lo = Infinity;
    this.hi = -Infinity;
  }
}

const RESERVOIR_SIZE = 4096;
/**
 * A summary set's reservoir per key: a set has one summary per top-level znode, so a tree with
 * ten thousand of them would hold 320 MB of samples at 4096 each. 256 samples put the median
 * (all ZooKeeper's per-namespace sets export) within a few percent.
 */
export const SET_RESERVOIR_SIZE = 256;
const FIRST_SAMPLE_ROOM = 16;

/**
 * AvgMinMax plus a uniform sample of at most `capacity` values (Vitter's algorithm R) for
 * quantiles. The sample array starts small and doubles up to capacity.
 */
export class SampledStat extends AvgMinMax {
  private sample: Float64Array | null = null;

  constructor(readonly capacity = RESERVOIR_SIZE) {
    super();
  }

  override add(v: number): void {
    super.add(v);
    const n = this.count;
    if (n <= this.capacity) {
      let s = this.sample;
      if (s === null) s = this.sample = new Float64Array(Math.min(FIRST_SAMPLE_ROOM, this.capacity));
      else if (n > s.length) {
        const bigger = new Float64Array(Math.min(s.length * 2, this.capacity));
        bigger.set(s);
        s = this.sample = bigger;
      }
      s[n - 1] = v;
    } else {
      const r = Math.floor(Math.random() * n);
      if (r < this.capacity) this.sample![r] = v;
    }
  }

  /** Room held for samples (values, not bytes). */
  get sampleRoom(): number {
    return this.sample?.length ?? 0;
  }

  /** The sampled values, sorted ascending (a copy). */
  sorted(): Float64Array {
    if (!this.sample) return new Float64Array(0);
    return this.sample.slice(0, Math.min(this.count, this.capacity)).sort();
  }

  override reset(): void {
    super.reset();
    this.sample = null;
  }
}

/** The q-quantile of sorted values, interpolating between neighbours; NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n + 1);
  if (pos < 1) return sorted[0]!;
  if (pos >= n) return sorted[n - 1]!;
  const i = Math.floor(pos);
  const lower = sorted[i - 1]!;
  return lower + (pos - i) * (sorted[i]! - lower);
}

/** Quantiles Prometheus gets: ZooKeeper's PrometheusMetricsProvider adds 0.9 and 0.99 for ADVANCED. */
const BASIC_QUANTILES = [0.5];
const ADVANCED_QUANTILES = [0.5, 0.9, 0.99];
/** Percentiles mntr prints for ADVANCED summaries (AvgMinMaxPercentileCounter). */
const MNTR_PERCENTILES: Array<[string, number]> = [['p50', 0.5], ['p95', 0.95], ['p99', 0.99], ['p999', 0.999]];

type Sink = (key: string, value: number, isDouble: boolean) => void;

function mntrValues(name: string, s: SampledStat, advanced: boolean, sink: Sink): void {
  sink(`avg_${name}`, s.avg, true);
  sink(`min_${name}`, s.min, false);
  sink(`max_${name}`, s.max, false);
  sink(`cnt_${name}`, s.count, false);
  sink(`sum_${name}`, s.total, false);
  if (!advanced) return;
  const sorted = s.sorted();
  for (const [p, q] of MNTR_PERCENTILES) sink(`${p}_${name}`, sorted.length ? Math.round(quantile(sorted, q)) : 0, false);
}

type Sample = { metricName?: string; labels: Partial<Record<string, string | number>>; value: number };

function exported(name: string, values: Sample[]): Awaited<ReturnType<Summary<string>['get']>> {
  // prom-client's typings declare a numeric enum; at run time the type is this string.
  const type = 'summary' as unknown as MetricType;
  return { name, help: name, type, aggregator: 'sum', collect: () => undefined, values };
}

function promSamples(name: string, s: SampledStat, advanced: boolean, labels: Record<string, string>, out: Sample[]): void {
  const sorted = s.sorted();
  for (const q of advanced ? ADVANCED_QUANTILES : BASIC_QUANTILES) out.push({ labels: { ...labels, quantile: q }, value: quantile(sorted, q) });
  out.push({ metricName: `${name}_count`, labels, value: s.count });
  out.push({ metricName: `${name}_sum`, labels, value: s.total });
}

/** One summary: `add` on the request path; mntr and Prometheus read the same numbers. */
export class ZkSummary extends Summary<string> {
  readonly stat = new SampledStat();

  constructor(readonly metricName: string, readonly advanced: boolean, registry: Registry) {
    super({ name: metricName, help: metricName, registers: [registry] });
  }

  add(v: number): void {
    this.stat.add(v);
  }

  override observe(a: number | Partial<Record<string, string | number>>, b?: number): void {
    this.stat.add(typeof a === 'number' ? a : b!);
  }

  override async get(): Promise<Awaited<ReturnType<Summary<string>['get']>>> {
    const values: Sample[] = [];
    promSamples(this.metricName, this.stat, this.advanced, {}, values);
    return exported(this.metricName, values);
  }

  // prom-client's constructor calls reset() before this class's fields exist.
  override reset(): void {
    this.stat?.reset();
  }

  mntr(sink: Sink): void {
    mntrValues(this.metricName, this.stat, this.advanced, sink);
  }
}

/** A summary per key (ZooKeeper's SummarySet, label `key`), e.g. bytes read per top-level znode. */
export class ZkSummarySet extends Summary<'key'> {
  private readonly byKey = new Map<string, SampledStat>();

  constructor(readonly metricName: string, readonly advanced: boolean, registry: Registry) {
    super({ name: metricName, help: metricName, labelNames: ['key'], registers: [registry] });
  }

  add(key: string, v: number): void {
    let s = this.byKey.get(key);
    if (!s) this.byKey.set(key, (s = new SampledStat(SET_RESERVOIR_SIZE)));
    s.add(v);
  }

  /** Sample room held per key (what the set costs in memory: 8 bytes per slot). */
  sampleRooms(): Map<string, number> {
    return new Map([...this.byKey].map(([k, s]) => [k, s.sampleRoom]));
  }

  override async get(): Promise<Awaited<ReturnType<Summary<string>['get']>>> {
    const values: Sample[] = [];
    for (const [key, s] of this.byKey) promSamples(this.metricName, s, this.advanced, { key }, values);
    return exported(this.metricName, values);
  }

  /** Like ZooKeeper, a reset keeps the keys and zeroes their values. */
  override reset(): void {
    for (const s of this.byKey?.values() ?? []) s.reset();
  }

  mntr(sink: Sink): void {
    for (const [key, s] of this.byKey) mntrValues(`${key}_${this.metricName}`, s, this.advanced, sink);
  }
}
