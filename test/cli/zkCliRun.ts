// Runs zk-cli (or Apache's zkCli.sh) on a script and returns its normalised output, so outputs can
// be compared modulo zxids and times.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ZK_CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/zk-cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(cmd: string, args: string[], stdin: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

export function normalise(s: string): string {
  return s
    .split('\n')
    .filter((l) => !l.startsWith('SLF4J'))
    .map((l) => l.replace(/0x[0-9a-f]+/g, '0xZ').replace(/^(ctime|mtime) = .*/, '$1 = T'))
    .join('\n')
    // whether zkCli prints the final Closed event on quit is a race inside the Java client
    .replace(/\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n$/, '');
}

/** A scripted session exercising most commands; every line's output is deterministic. */
export const SCRIPT = `create /a hello
create /a again
create -s /a/s x
create -e /a/e eph
create -c /cont
create -t 5000 /ttl tdata
create /noparent/x
ls /
ls -s /a
ls -R /a
get /a
get -s /a
get /nothere
set /a world
set -s /a world2
set -v 99 /a bad
stat /a
stat /nothere
getAcl /a
setAcl /a world:anyone:cdrwa
getAcl -s /a
addauth digest bob:secret
whoami
create /authn data auth:bob:secret:cdrwa
getAcl /authn
sync /a
getEphemerals
getEphemerals /a
getAllChildrenNumber /
getAllChildrenNumber /a
setquota -n 10 /a
setquota -b 100 /a
listquota /a
delquota -n /a
listquota /a
delquota /a
listquota /a
create /w
get -w /w
ls -w /w
stat -w /w
set /w x
create /w/c
delete /w/c
create /w/big "hello world"
get /w/big
addWatch /a
addWatch -m PERSISTENT_RECURSIVE /w
removewatches /a
removewatches /nothere
delete /a
deleteall /a
ls /
get /
config
redo 7
history
bogus
create
quit
`;
