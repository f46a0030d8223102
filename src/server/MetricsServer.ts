// Prometheus exposition of the server's metrics registry, as ZooKeeper's PrometheusMetricsProvider
// serves it (metricsProvider.httpHost/httpPort, path /metrics; names are mntr's without zk_).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerView } from './ServerView.js';
import { processMetrics } from '../metrics/ProcessMetrics.js';

export const PROMETHEUS_PROVIDER = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

/** The settings from zoo.cfg's metricsProvider.* keys, or null when Prometheus is not configured. */
export function metricsSettings(raw: Map<string, string>): MetricsSettings | null {
  const cls = raw.get('metricsProvider.className');
  if (cls !== PROMETHEUS_PROVIDER && cls !== 'prometheus') return null;
  const port = Number(raw.get('metricsProvider.httpPort') ?? 7000);
  return {
    host: raw.get('metricsProvider.httpHost') ?? '0.0.0.0',
    port: Number.isInteger(port) ? port : 7000,
    // ZooKeeper exports the JVM's figures unless told not to; ours are the Node runtime's.
    exportRuntime: (raw.get('metricsProvider.exportJvmInfo') ?? 'true').trim().toLowerCase() !== 'false',
  };
}

export interface MetricsSettings {
  host: string;
  port: number;
  exportRuntime: boolean;
}

export class MetricsServer {
  private http: http.Server | null = null;
  port = 0;

  constructor(private readonly view: ServerView, private readonly settings: MetricsSettings) {}

  async start(): Promise<void> {
    // The event-loop and GC monitors must run before the first scrape to have seen anything.
    if (this.settings.exportRuntime) processMetrics();
    this.http = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found\n');
        return;
      }
      this.scrape().then(
        (text) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(text);
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics collection failed: ${e.message}\n`);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.http!.once('error', reject);
      this.http!.listen(this.settings.port, this.settings.host, () => resolve());
    });
    this.port = (this.http.address() as AddressInfo).port;
  }

  private async scrape(): Promise<string> {
    const zk = await this.view.stats.metrics.prometheus();
    return this.settings.exportRuntime ? zk + await processMetrics().metrics() : zk;
  }

  async stop(): Promise<void> {
    if (!this.http) return;
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http!.close(() => r()));
    this.http = null;
  }
}
