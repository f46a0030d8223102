// Helpers for tests that run several server processes as one ensemble: member configs with
// server.N lines, srvr Mode polling (bounded), and waiting for one leader.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, fourLetterWord, writeZooCfg, type RunningServer } from './ServerProcess.js';

export const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface MemberPorts {
  client: number;
  quorum: number;
  election: number;
}

export async function allocatePorts(ids: number[]): Promise<Map<number, MemberPorts>> {
  const ports = new Map<number, MemberPorts>();
  for (const id of ids) ports.set(id, { client: await freePort(), quorum: await freePort(), election: await freePort() });
  return ports;
}

/** Writes `<dir>/data/myid` and `<dir>/zoo.cfg` for member `id`; returns the config file and data dir. */
export function writeMemberConfig(
  dir: string, id: number, ports: Map<number, MemberPorts>, tickTime = 200, observers: ReadonlySet<number> = new Set(),
  extra: Record<string, string | number | boolean> = {},
): { cfgFile: string; dataDir: string } {
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'myid'), `${id}\n`);
  const cfg: Record<string, string | number | boolean> = {
    tickTime, initLimit: 10, syncLimit: 5, dataDir, clientPort: ports.get(id)!.client, clientPortAddress: HOST,
    '4lw.commands.whitelist': '*', 'admin.enableServer': false,
  };
  for (const [o, p] of ports) cfg[`server.${o}`] = `${HOST}:${p.quorum}:${p.election}${observers.has(o) ? ':observer' : ''}`;
  if (observers.has(id)) cfg.peerType = 'observer';
  Object.assign(cfg, extra);
  const cfgFile = path.join(dir, 'zoo.cfg');
  writeZooCfg(cfgFile, cfg);
  return { cfgFile, dataDir };
}

export async function srvrMode(s: RunningServer): Promise<string | null> {
  try {
    const out = await fourLetterWord(s.host, s.port, 'srvr', 1000);
    return /Mode: (\w+)/.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Polls srvr until there is one leader and every other member follows; bounded. */
export async function waitForRoles(members: RunningServer[], timeoutMs: number): Promise<{ leader: RunningServer; followers: RunningServer[] }> {
  const deadline = Date.now() + timeoutMs;
  let last: (string | null)[] = [];
  while (Date.now() < deadline) {
    last = await Promise.all(members.map(srvrMode));
    const leaders = members.filter((_, i) => last[i] === 'leader');
    const followers = members.filter((_, i) => last[i] === 'follower');
    if (leaders.length === 1 && followers.length === members.length - 1) return { leader: leaders[0]!, followers };
    await sleep(50);
  }
  assert.fail(`no leader + ${members.length - 1} followers within ${timeoutMs} ms; modes ${JSON.stringify(last)}`);
}
