// Where the recorded Apache ZooKeeper 3.8 vectors are: $ZK_VECTORS, the shared folder beside the
// checkout, or the workplace's shared folder.
import fs from 'node:fs';
import path from 'node:path';

export function vectorsDir(sub = ''): string {
  const candidates = [
    process.env.ZK_VECTORS,
    path.resolve(process.cwd(), '../shared/vectors'),
    '/work/shared/vectors',
  ].filter((c): c is string => !!c);
  const found = candidates.find((c) => fs.existsSync(c)) ?? candidates[candidates.length - 1]!;
  return path.join(found, sub);
}
