// Client-side path rules (PathUtils.validatePath) and chroot mapping.
import { Err } from '../protocol/constants.js';
import { ZooKeeperError } from './errors.js';

function invalid(path: string, reason: string): never {
  throw new ZooKeeperError(Err.BadArguments, path, `Invalid path string "${path}" caused by ${reason}`);
}

/** Throws BadArguments (-8) when `path` is not a valid znode path; `sequential` allows a trailing '/'. */
export function validatePath(path: string, sequential = false): void {
  if (typeof path !== 'string') invalid(String(path), 'path must be a string');
  const p = sequential ? path + '1' : path;
  if (p.length === 0) invalid(path, 'empty path');
  if (p[0] !== '/') invalid(path, 'path must start with / character');
  if (p.length === 1) return;
  if (p[p.length - 1] === '/') invalid(path, 'must not end with / character');
  const segments = p.split('/');
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg === '') invalid(path, `empty node name specified @${i}`);
    if (seg === '.' || seg === '..') invalid(path, `relative paths not allowed @${i}`);
  }
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (
      c === 0 ||
      (c > 0 && c < 0x1f) ||
      c === 0x1f ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      invalid(path, `invalid character @${i}`);
    }
  }
}

export function prependChroot(chroot: string, clientPath: string): string {
  if (!chroot) return clientPath;
  return clientPath === '/' ? chroot : chroot + clientPath;
}

export function stripChroot(chroot: string, serverPath: string): string {
  if (!chroot) return serverPath;
  if (serverPath === chroot) return '/';
  if (serverPath.startsWith(chroot + '/')) return serverPath.slice(chroot.length);
  return serverPath;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
