// Znode path rules (PathUtils.validatePath) and helpers.

/** Returns an error message if `path` is not a valid znode path, else null. */
export function pathError(path: string | null | undefined): string | null {
  if (path == null || path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'Path must not end with / character';
  let segStart = 1;
  for (let i = 1; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 0x2f;
    if (c === 0x2f) {
      const len = i - segStart;
      if (len === 0) return `empty node name specified @${i}`;
      if (len === 1 && path.charCodeAt(segStart) === 0x2e) return `relative paths not allowed @${i}`;
      if (len === 2 && path.charCodeAt(segStart) === 0x2e && path.charCodeAt(segStart + 1) === 0x2e) {
        return `relative paths not allowed @${i}`;
      }
      segStart = i + 1;
      continue;
    }
    if (
      c === 0 ||
      (c > 0 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `invalid character @${i}`;
    }
  }
  return null;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.substring(0, i);
}

export function baseName(path: string): string {
  return path.substring(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

/** Java's String.format("%010d", n) for a signed 32-bit counter. */
export function sequenceSuffix(n: number): string {
  if (n < 0) return '-' + String(-n).padStart(9, '0');
  return String(n).padStart(10, '0');
}

export const SYSTEM_PATHS = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);
export const QUOTA_ROOT = '/zookeeper/quota';
export const CONFIG_NODE = '/zookeeper/config';
