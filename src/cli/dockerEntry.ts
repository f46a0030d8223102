// The container's first step, with the rules of the official ZooKeeper image's
// docker-entrypoint.sh so that a compose file or Helm values written for `zookeeper:3.8` work
// unchanged: zoo.cfg is written from ZOO_* variables only when $ZOO_CONF_DIR/zoo.cfg does not exist
// (a mounted or previously written file wins), and $ZOO_DATA_DIR/myid from ZOO_MY_ID (default 1)
// only when absent (a member's identity must not change under its data).
//
// Unlike the shell original, values are checked before anything is written: a typo in
// ZOO_TICK_TIME or ZOO_SERVERS stops the container with a message naming the variable, instead of
// a zoo.cfg the server later rejects (or, worse, silently reads differently). The rendered file is
// also parsed with the server's own zoo.cfg reader, so what passes here is what the server runs.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, parseZooCfg } from '../config/ZooCfg.js';

/** The official image's Dockerfile ENV values: what a variable means when it is not set. */
export const DOCKER_ENV_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  ZOO_CONF_DIR: '/conf',
  ZOO_DATA_DIR: '/data',
  ZOO_DATA_LOG_DIR: '/datalog',
  ZOO_LOG_DIR: '/logs',
  ZOO_TICK_TIME: '2000',
  ZOO_INIT_LIMIT: '5',
  ZOO_SYNC_LIMIT: '2',
  ZOO_AUTOPURGE_PURGEINTERVAL: '0',
  ZOO_AUTOPURGE_SNAPRETAINCOUNT: '3',
  ZOO_MAX_CLIENT_CNXNS: '60',
  ZOO_STANDALONE_ENABLED: 'true',
  ZOO_ADMINSERVER_ENABLED: 'true',
});

/** The image's ZOO_SERVERS when none is given: a standalone server with its client port on 2181. */
export const DEFAULT_ZOO_SERVERS = 'server.1=localhost:2888:3888;2181';

/** A variable with a value the entrypoint refuses; the message names the variable and the value. */
export class DockerEnvError extends Error {
  constructor(
    message: string,
    readonly variable?: string,
  ) {
    super(message);
    this.name = 'DockerEnvError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** A variable's value; an empty value counts as unset, as `${VAR:-default}` does in the shell. */
function get(env: Env, name: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? (DOCKER_ENV_DEFAULTS[name] ?? '') : v.trim();
}

function integer(env: Env, name: string, min: number, what: string): string {
  const v = get(env, name);
  if (!/^[0-9]+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new DockerEnvError(`${name} must be ${what}, got '${v}'`, name);
  }
  return String(Number(v));
}

function boolean(env: Env, name: string): string {
  const v = get(env, name).toLowerCase();
  if (v !== 'true' && v !== 'false') throw new DockerEnvError(`${name} must be true or false, got '${get(env, name)}'`, name);
  return v;
}

/** Words split on any whitespace, as the shell's unquoted `for x in $VAR` does. */
function words(v: string): string[] {
  return v.split(/\s+/).filter((w) => w !== '');
}

const SERVER_ENTRY = /^server\.([0-9]+)=(\S+)$/;

/** The directories the entrypoint uses, after defaults. */
export interface DockerDirs {
  confDir: string;
  dataDir: string;
  dataLogDir: string;
  logDir: string;
}

export function dockerDirs(env: Env): DockerDirs {
  const dir = (name: string): string => {
    const v = get(env, name);
    if (!path.isAbsolute(v)) throw new DockerEnvError(`${name} must be an absolute path, got '${v}'`, name);
    return v;
  };
  return { confDir: dir('ZOO_CONF_DIR'), dataDir: dir('ZOO_DATA_DIR'), dataLogDir: dir('ZOO_DATA_LOG_DIR'), logDir: dir('ZOO_LOG_DIR') };
}

/** The value for `<dataDir>/myid` from ZOO_MY_ID (default 1); ZooKeeper's ids are 1..255. */
export function myIdFromEnv(env: Env): number {
  const raw = env.ZOO_MY_ID === undefined || env.ZOO_MY_ID.trim() === '' ? '1' : env.ZOO_MY_ID.trim();
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > 255) {
    throw new DockerEnvError(`ZOO_MY_ID must be an integer from 1 to 255, got '${raw}'`, 'ZOO_MY_ID');
  }
  return Number(raw);
}

/**
 * zoo.cfg text from the environment, in the official image's order: directories, tick and limits,
 * autopurge, connection limit, standaloneEnabled, admin.enableServer, the server.N lines, the 4lw
 * whitelist when set, then each ZOO_CFG_EXTRA word (last, so it can override anything above:
 * zoo.cfg's last occurrence of a key wins).
 */
export function renderZooCfg(env: Env): string {
  const dirs = dockerDirs(env);
  const lines = [
    `dataDir=${dirs.dataDir}`,
    `dataLogDir=${dirs.dataLogDir}`,
    `tickTime=${integer(env, 'ZOO_TICK_TIME', 1, 'a positive integer (milliseconds)')}`,
    `initLimit=${integer(env, 'ZOO_INIT_LIMIT', 1, 'a positive integer (ticks)')}`,
    `syncLimit=${integer(env, 'ZOO_SYNC_LIMIT', 1, 'a positive integer (ticks)')}`,
    `autopurge.snapRetainCount=${integer(env, 'ZOO_AUTOPURGE_SNAPRETAINCOUNT', 0, 'a non-negative integer')}`,
    `autopurge.purgeInterval=${integer(env, 'ZOO_AUTOPURGE_PURGEINTERVAL', 0, 'a non-negative integer (hours; 0 = off)')}`,
    `maxClientCnxns=${integer(env, 'ZOO_MAX_CLIENT_CNXNS', 0, 'a non-negative integer (0 = unlimited)')}`,
    `standaloneEnabled=${boolean(env, 'ZOO_STANDALONE_ENABLED')}`,
    `admin.enableServer=${boolean(env, 'ZOO_ADMINSERVER_ENABLED')}`,
  ];
  const servers = words(env.ZOO_SERVERS ?? '');
  const seen = new Set<string>();
  for (const s of servers.length > 0 ? servers : [DEFAULT_ZOO_SERVERS]) {
    const m = SERVER_ENTRY.exec(s);
    if (!m) {
      throw new DockerEnvError(
        `ZOO_SERVERS entries must look like server.<id>=<host>:<quorumPort>:<electionPort>[:role][;[<clientHost>:]<clientPort>], ` +
          `separated by spaces; got '${s}'`,
        'ZOO_SERVERS',
      );
    }
    if (/,server\.[0-9]/.test(s)) {
      throw new DockerEnvError(`ZOO_SERVERS entries are separated by spaces, not commas; got '${s}'`, 'ZOO_SERVERS');
    }
    if (seen.has(m[1]!)) throw new DockerEnvError(`ZOO_SERVERS names server.${m[1]} twice`, 'ZOO_SERVERS');
    seen.add(m[1]!);
    lines.push(s);
  }
  const whitelist = env.ZOO_4LW_COMMANDS_WHITELIST?.trim();
  if (whitelist) {
    if (/\s/.test(whitelist.replace(/,\s+/g, ','))) {
      throw new DockerEnvError(`ZOO_4LW_COMMANDS_WHITELIST is a comma-separated list (e.g. srvr,ruok,mntr or *), got '${whitelist}'`, 'ZOO_4LW_COMMANDS_WHITELIST');
    }
    lines.push(`4lw.commands.whitelist=${whitelist}`);
  }
  for (const extra of words(env.ZOO_CFG_EXTRA ?? '')) {
    if (!/^[^=\s]+=/.test(extra)) {
      throw new DockerEnvError(`ZOO_CFG_EXTRA entries must be key=value separated by spaces, got '${extra}'`, 'ZOO_CFG_EXTRA');
    }
    lines.push(extra);
  }
  return `${lines.join('\n')}\n`;
}

/** What prepareDockerConfig did, for the entrypoint's log lines and for tests. */
export interface DockerPrepared {
  cfgPath: string;
  /** False when zoo.cfg already existed and was left as it was. */
  wroteCfg: boolean;
  myidPath: string;
  /** False when myid already existed and was left as it was. */
  wroteMyId: boolean;
  /** The id in myid after this step. */
  myid: string;
  /** Things an operator should know, e.g. ZOO_MY_ID differing from an existing myid. */
  notes: string[];
}

/**
 * Creates the directories, writes myid and zoo.cfg when absent, and checks the result with the
 * server's zoo.cfg reader. Nothing is written when a variable is refused, so fixing the variable
 * and restarting the container is enough.
 */
export function prepareDockerConfig(env: Env): DockerPrepared {
  const dirs = dockerDirs(env);
  const cfgPath = path.join(dirs.confDir, 'zoo.cfg');
  const myidPath = path.join(dirs.dataDir, 'myid');
  const notes: string[] = [];
  const cfgExists = fs.existsSync(cfgPath);
  const myidExists = fs.existsSync(myidPath);
  // Validate every variable the steps below use before touching the disk.
  const text = cfgExists ? undefined : renderZooCfg(env);
  const wantedId = String(myIdFromEnv(env));
  if (text !== undefined) {
    // Parse with the id this container will have, so a server.N list without our id, or a
    // client port nowhere, is reported now and by name. myid is read from disk by the parser,
    // so an existing one is what counts.
    const id = myidExists ? fs.readFileSync(myidPath, 'utf8').trim() : wantedId;
    fs.mkdirSync(dirs.confDir, { recursive: true });
    checkWithServerParser(text, cfgPath, dirs.dataDir, id, env);
  }
  for (const d of [dirs.confDir, dirs.dataDir, dirs.dataLogDir, dirs.logDir]) fs.mkdirSync(d, { recursive: true });
  let myid: string;
  if (myidExists) {
    myid = fs.readFileSync(myidPath, 'utf8').trim();
    if (env.ZOO_MY_ID?.trim() && myid !== wantedId) {
      notes.push(`${myidPath} says ${myid}; ZOO_MY_ID=${wantedId} is ignored because the data directory already belongs to server ${myid}`);
    }
  } else {
    myid = wantedId;
    fs.writeFileSync(myidPath, `${myid}\n`);
  }
  if (text !== undefined) fs.writeFileSync(cfgPath, text);
  else notes.push(`${cfgPath} exists; the ZOO_* settings are not applied (remove it to regenerate it from the environment)`);
  return { cfgPath, wroteCfg: text !== undefined, myidPath, wroteMyId: !myidExists, myid, notes };
}

function checkWithServerParser(text: string, cfgPath: string, dataDir: string, myid: string, env: Env): void {
  // The parser reads <dataDir>/myid itself; give it a scratch dataDir holding the id we will write,
  // so nothing lands in the real one before the check passes. The scratch goes beside zoo.cfg,
  // which must be writable anyway (not /tmp: a pod may run with a read-only root filesystem).
  const scratch = fs.mkdtempSync(path.join(path.dirname(cfgPath), '.zk-docker-entry-'));
  try {
    fs.writeFileSync(path.join(scratch, 'myid'), `${myid}\n`);
    const probe = text.replace(/^dataDir=.*$/gm, `dataDir=${scratch}`);
    // Said before parsing: the parser would first miss the client port this member's line gives.
    const ids = [...text.matchAll(/^server\.([0-9]+)=/gm)].map((m) => m[1]!);
    const quorum = ids.length > 1 || /^standaloneEnabled=false$/m.test(text);
    if (quorum && ids.length > 0 && !ids.some((i) => Number(i) === Number(myid))) {
      throw new DockerEnvError(`ZOO_MY_ID (or ${dataDir}/myid) is ${myid}, but ZOO_SERVERS has no server.${myid} entry`, 'ZOO_MY_ID');
    }
    let config;
    try {
      config = parseZooCfg(probe, { path: cfgPath, env: { ...env } as NodeJS.ProcessEnv });
    } catch (e) {
      if (e instanceof ConfigError) {
        throw new DockerEnvError(`the zoo.cfg made from the ZOO_* variables is not valid: ${e.message.split(scratch).join(dataDir)}`);
      }
      throw e;
    }
    // zk-server refuses this at start too; saying it here names the variables to fix.
    if (!config.standalone && !config.servers?.has(Number(myid))) {
      throw new DockerEnvError(`ZOO_MY_ID (or ${dataDir}/myid) is ${myid}, but the configuration has no server.${myid} line`, 'ZOO_MY_ID');
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
