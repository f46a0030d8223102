// The interactive shell in a real pseudo-terminal: prompt, tab completion of commands and
// znode paths, and history recalled with the arrow key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/OurServer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DRIVER = path.resolve(here, '../../../test/cli/pty_drive.py');
const CLI = path.resolve(here, '../../src/cli/zk-cli.js');
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

test('zk-cli interactive: prompt, completion of commands and paths, history', { timeout: 60000 }, async () => {
  const srv = await startServer();
  try {
    const prompt = `[zk: ${srv.connectString}(CONNECTED)`;
    const spec = {
      argv: [process.execPath, CLI, '-server', srv.connectString],
      steps: [
        { expect: prompt },
        { send: 'create /completion-target hello\r' },
        { expect: 'Created /completion-target' },
        // "getA" + TAB offers getAcl and getAllChildrenNumber; "getAl" + TAB completes.
        { send: 'getAl\t' },
        { expect: 'getAllChildrenNumber' },
        { send: ' /compl\t' },
        { expect: '/completion-target' },
        { send: '\r' },
        { expect: '\r\n0\r\n' },
        // Arrow-up recalls the previous line; edit it into a get.
        { send: '\x1b[A' },
        { expect: 'getAllChildrenNumber /completion-target' },
        { send: '\x15get /completion-target\r' },
        { expect: 'hello' },
        { send: 'quit\r' },
      ],
    };
    // Asynchronous on purpose: the server runs in this process and must keep serving.
    const { stdout } = await promisify(execFile)(PYTHON, [DRIVER, JSON.stringify(spec)], { encoding: 'utf8', timeout: 50000 });
    const out = JSON.parse(stdout) as { ok: boolean; missing?: string; screen: string };
    assert.ok(out.ok, `terminal never showed ${JSON.stringify(out.missing)}; screen:\n${out.screen}`);
  } finally {
    await srv.stop();
  }
});
