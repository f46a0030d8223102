// tsc compiles only .ts files: copy the web console's static files next to the compiled module
// (dist/src/server/console/static), so dist and the npm package carry them; a checkout serves
// them from src/ directly. An optional argument names another output root (tests use a temporary one).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const from = path.join(root, 'src', 'server', 'console', 'static');
const out = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist');
const to = path.join(out, 'src', 'server', 'console', 'static');
fs.mkdirSync(to, { recursive: true });
for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
