// Splits a TCP byte stream into length-prefixed ZooKeeper frames.
import { Err } from '../protocol/constants.js';
import { ZooKeeperError } from './errors.js';

export class FrameDecoder {
  private pending: Buffer | null = null;

  constructor(private readonly maxFrameBytes: number) {}

  /** Calls `onFrame(buf, start, end)` for every complete frame; the buffer may be shared. */
  push(chunk: Buffer, onFrame: (buf: Buffer, start: number, end: number) => void): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let pos = 0;
    while (buf.length - pos >= 4) {
      const len = buf.readInt32BE(pos);
      if (len < 0 || len > this.maxFrameBytes) {
        throw new ZooKeeperError(Err.ConnectionLoss, undefined, `Packet len ${len} is out of range!`);
      }
      if (buf.length - pos - 4 < len) break;
      onFrame(buf, pos + 4, pos + 4 + len);
      pos += 4 + len;
    }
    if (pos < buf.length) this.pending = buf.subarray(pos);
  }

  reset(): void {
    this.pending = null;
  }
}
