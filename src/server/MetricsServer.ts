// Prometheus exposition of the server's metrics registry, as ZooKeeper's PrometheusMetricsProvider
// serves it (metricsProvider.httpHost/httpPort, path /metrics; names are mntr's without zk_).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerView } from './ServerView.js';

export const PROMETHEUS_PROVIDER = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

/** The settings from zoo.cfg's metricsProvider.* keys, or null when Prometheus is not configured. */
export function metricsSettings(raw: Map<string, string>): { host: string; port: number } | null {
  const cls = raw.get('metricsProvider.className');
  if (cls !== PROMETHEUS_PROVIDER && cls !== 'prometheus') return null;
  const port = Number(raw.get('metricsProvider.httpPort') ?? 7000);
  return { host: raw.get('metricsProvider.httpHost') ?? '0.0.0.0', port: Number.isInteger(port) ? port : 7000 };
}

export class MetricsServer {
  private http: http.Server | null = null;
  port = 0;

  constructor(private readonly view: ServerView, private readonly host: string, private readonly wantPort: number) {}

  async start(): Promise<void> {
    this.http = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found\n');
        return;
      }
      this.view.stats.metrics.prometheus().then(
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
      this.http!.listen(this.wantPort, this.host, () => resolve());
    });
    this.port = (this.http.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.http) return;
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http!.close(() => r()));
    this.http = null;
  }
}
