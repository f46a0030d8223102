#!/usr/bin/env node
// zk-docker-entry: the container entrypoint's configuration step (see dockerEntry.ts). The image's
// docker-entrypoint.sh runs it, then execs the server, so the server is PID 1 and gets SIGTERM.
//   zk-docker-entry           write zoo.cfg and myid from ZOO_* variables when they are absent
//   zk-docker-entry --print   print the zoo.cfg the variables make; write nothing
import { DockerEnvError, prepareDockerConfig, renderZooCfg } from './dockerEntry.js';

function main(argv: string[], env: NodeJS.ProcessEnv): number {
  try {
    if (argv[0] === '--print') {
      process.stdout.write(renderZooCfg(env));
      return 0;
    }
    if (argv.length > 0) {
      process.stderr.write('Usage: zk-docker-entry [--print]\n');
      return 2;
    }
    const r = prepareDockerConfig(env);
    if (r.wroteCfg) process.stdout.write(`zk-docker-entry: wrote ${r.cfgPath}\n`);
    if (r.wroteMyId) process.stdout.write(`zk-docker-entry: wrote ${r.myidPath} (${r.myid})\n`);
    for (const n of r.notes) process.stdout.write(`zk-docker-entry: ${n}\n`);
    return 0;
  } catch (e) {
    if (e instanceof DockerEnvError) {
      process.stderr.write(`zk-docker-entry: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    // Unwritable volume, read-only /conf: one line an operator can act on.
    if (err && typeof err.code === 'string') {
      process.stderr.write(`zk-docker-entry: ${err.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2), process.env);
