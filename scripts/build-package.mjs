#!/usr/bin/env node
// Finishing steps of the package build, after tsc has emitted dist/src (ESM) and dist/cjs:
// - dist/cjs/package.json {"type":"commonjs"}: the package is "type": "module", so without it
//   Node (and TypeScript's node16 resolution) would read dist/cjs/*.js as ES modules;
// - the bins executable, so they run straight from a checkout or an unpacked tarball
//   (npm also sets the bit when it links bins, but `npx` on a local path and Docker COPY don't).
import fs from 'node:fs';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
fs.mkdirSync('dist/cjs', { recursive: true });
fs.writeFileSync('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
for (const file of Object.values(pkg.bin ?? {})) {
  const text = fs.readFileSync(file, 'utf8');
  // `env -S` (coreutils 8.30+, BSD env) lets a bin carry node options (zk-server's V8 settings).
  if (!/^#!\/usr\/bin\/env (-S ([A-Z_]+=\S+ )*)?node[ \n]/.test(text)) throw new Error(`${file}: a bin must start with a #!/usr/bin/env node (or env -S node ...) line`);
  fs.chmodSync(file, 0o755);
}
