// The wire layer is pure encoding: it may use jute, protocol records, util and the storage
// layer's record declarations, and nothing that runs a server, a socket or a configuration file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const wireDir = path.join(root, 'src', 'quorum', 'wire');

test('src/quorum/wire imports only jute, protocol, util, storage records, the Zab message types and itself; no node networking', () => {
  const files = fs.readdirSync(wireDir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 3, files.join(', '));
  const bad: string[] = [];
  for (const f of files) {
    const text = fs.readFileSync(path.join(wireDir, f), 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) {
        if (['node:net', 'node:tls', 'node:dgram', 'node:http', 'node:fs'].includes(spec)) bad.push(`${f} → ${spec}`);
        continue;
      }
      if (!spec.startsWith('.')) {
        bad.push(`${f} → ${spec}`);
        continue;
      }
      const target = path.relative(path.join(root, 'src'), path.resolve(wireDir, spec));
      const ok = ['jute/', 'protocol/', 'util/', 'quorum/wire/'].some((p) => target.startsWith(p)) || target === path.join('quorum', 'zab', 'messages.js') ||
        target === path.join('storage', 'PersistenceRecords.js') || target === path.join('storage', 'Snapshot.js');
      if (!ok) bad.push(`${f} → ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});
