// Txn-log append throughput with fsync on: C concurrent appenders, each awaiting its own
// append before issuing the next (like C clients with one outstanding write each).
// Usage: node dist/bench/storage-txnlog.js [seconds=3] [concurrency list=1,10,100,1000]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OpCode } from '../src/protocol/constants.js';
import type { Txn } from '../src/protocol/txn.js';
import { FileTxnLog } from '../src/storage/TxnLog.js';

const seconds = Number(process.argv[2] ?? 3);
const levels = (process.argv[3] ?? '1,10,100,1000').split(',').map(Number);
const payload = Buffer.alloc(100, 0x61);

async function run(concurrency: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-bench-log-'));
  const log = new FileTxnLog({ dir, preAllocSizeKb: 65536, forceSync: true, logger: { warn: () => undefined, info: () => undefined } });
  let zxid = 0;
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const z = ++zxid;
      const txn: Txn = {
        hdr: { clientId: 1n, cxid: z, zxid: z, time: Date.now(), type: OpCode.setData },
        body: { type: OpCode.setData, path: '/bench/node', data: payload, version: z },
      };
      const t0 = performance.now();
      await log.append([txn]);
      latencies.push(performance.now() - t0);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - start) / 1000;
  await log.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(2);
  const s = log.stats;
  console.log(
    `appenders=${String(concurrency).padStart(4)}  appends/s=${String(Math.round(s.txns / elapsed)).padStart(7)}  ` +
      `fsyncs/s=${String(Math.round(s.fsyncs / elapsed)).padStart(5)}  txns/fsync=${(s.txns / s.fsyncs).toFixed(1).padStart(6)}  ` +
      `latency ms p50=${pct(0.5)} p99=${pct(0.99)} max=${latencies[latencies.length - 1]!.toFixed(2)}`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

for (const c of levels) await run(c);
