// Server-wide counters reported by srvr/stat/mntr and the admin server.
import { OpCode } from '../protocol/constants.js';

export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  minLatency = Number.MAX_SAFE_INTEGER;
  maxLatency = 0;
  totalLatency = 0;
  count = 0;
  authFailed = 0;
  lastResponseSize = 0;
  minResponseSize = -1;
  maxResponseSize = 0;

  recordResponse(latencyMs: number, size: number): void {
    this.packetsSent++;
    if (latencyMs < this.minLatency) this.minLatency = latencyMs;
    if (latencyMs > this.maxLatency) this.maxLatency = latencyMs;
    this.totalLatency += latencyMs;
    this.count++;
    this.lastResponseSize = size;
    if (this.minResponseSize < 0 || size < this.minResponseSize) this.minResponseSize = size;
    if (size > this.maxResponseSize) this.maxResponseSize = size;
  }

  get min(): number {
    return this.count ? this.minLatency : 0;
  }
  get avg(): number {
    return this.count ? this.totalLatency / this.count : 0;
  }

  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatency = Number.MAX_SAFE_INTEGER;
    this.maxLatency = 0;
    this.totalLatency = 0;
    this.count = 0;
    this.lastResponseSize = 0;
    this.minResponseSize = -1;
    this.maxResponseSize = 0;
  }
}


const OP_NAMES = new Map<number, string>([
  [OpCode.notification, 'NOTIFICATION'],
  [OpCode.create, 'CREA'],
  [OpCode.create2, 'CREA'],
  [OpCode.createContainer, 'CREA'],
  [OpCode.createTTL, 'CREA'],
  [OpCode.delete, 'DELE'],
  [OpCode.deleteContainer, 'DELE'],
  [OpCode.exists, 'EXIS'],
  [OpCode.getData, 'GETD'],
  [OpCode.setData, 'SETD'],
  [OpCode.getACL, 'GETA'],
  [OpCode.setACL, 'SETA'],
  [OpCode.getChildren, 'GETC'],
  [OpCode.getChildren2, 'GETC'],
  [OpCode.getAllChildrenNumber, 'GETACN'],
  [OpCode.sync, 'SYNC'],
  [OpCode.ping, 'PING'],
  [OpCode.check, 'CHEC'],
  [OpCode.multi, 'MULT'],
  [OpCode.multiRead, 'MLTR'],
  [OpCode.setWatches, 'SETW'],
  [OpCode.setWatches2, 'STW2'],
  [OpCode.addWatch, 'ADDW'],
  [OpCode.checkWatches, 'CHKW'],
  [OpCode.removeWatches, 'REMW'],
  [OpCode.whoAmI, 'HOMI'],
  [OpCode.getEphemerals, 'GETE'],
  [OpCode.closeSession, 'CLOS'],
  [OpCode.createSession, 'SESS'],
  [OpCode.reconfig, 'RECO'],
]);

export function opName(type: number): string {
  return OP_NAMES.get(type) ?? 'UNKNOWN';
}
