// Prometheus exposition of the server's metrics, as ZooKeeper's PrometheusMetricsProvider
// serves them (metricsProvider.httpHost/httpPort, path /metrics; names are mntr's without zk_).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ZkServer } from './ZkServer.js';
import { javaDouble } from '../util/javaText.js';

export const PROMETHEUS_PROVIDER = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

/** The settings from zoo.cfg's metricsProvider.* keys, or null when Prometheus is not configured. */
export function metricsSettings(raw: Map<string, string>): { host: string; port: number } | null {
  const cls = raw.get('metricsProvider.className');
  if (cls !== PROMETHEUS_PROVIDER && cls !== 'prometheus') return null;
  const port = Number(raw.get('metricsProvider.httpPort') ?? 7000);
  return { host: raw.get('metricsProvider.httpHost') ?? '0.0.0.0', port: Number.isInteger(port) ? port : 7000 };
}


export function renderPrometheus(server: ZkServer): string {
  let out = '';
  for (const line of server.fourLetter.render('mntr').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const name = line.substring(3, tab);
    const value = Number(line.substring(tab + 1));
    if (!Number.isFinite(value)) continue;
    out += `# HELP ${name} ${name}\n# TYPE ${name} gauge\n${name} ${javaDouble(value)}\n`;
  }
  return out;
}

export class MetricsServer {
  private http: http.Server | null = null;
  port = 0;

  constructor(private readonly zk: ZkServer, private readonly host: string, private readonly wantPort: number) {}

  async start(): Promise<void> {
    this.http = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(renderPrometheus(this.zk));
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
