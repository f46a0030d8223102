// A loopback TCP proxy that tests can sever (kill live connections), block (refuse new ones),
// or stall (accept bytes but forward nothing), to simulate network failures between a client and
// a server without touching either.
import net from 'node:net';

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private blocked = false;
  private stalled = false;
  port = 0;
  /** Connections accepted so far (including refused ones). */
  accepted = 0;

  constructor(public targetPort: number, public targetHost = '127.0.0.1') {}

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    const server = net.createServer((client) => this.onClient(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  private onClient(client: net.Socket): void {
    this.accepted++;
    client.on('error', () => {});
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
    upstream.on('error', () => {});
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (d) => {
        if (!this.stalled) to.write(d);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  }

  /** Kills every live connection (both legs), like a network failure. */
  sever(): void {
    for (const [a, b] of [...this.pairs]) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** While blocked, new connections are accepted and immediately reset. */
  block(on = true): void {
    this.blocked = on;
  }

  /** While stalled, bytes are swallowed in both directions (a black hole). */
  stall(on = true): void {
    this.stalled = on;
  }

  get liveConnections(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    this.sever();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}
