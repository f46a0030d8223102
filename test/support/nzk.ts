// node-zookeeper-client (CommonJS, untyped) wrapped in promises for tests.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const zk: any = require('node-zookeeper-client');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NzkClient = any;

export async function connectNzk(connectString: string, sessionTimeout = 4000): Promise<NzkClient> {
  const c = zk.createClient(connectString, { sessionTimeout, retries: 0 });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('connect timeout')), 5000);
    c.once('connected', () => {
      clearTimeout(t);
      resolve();
    });
    c.connect();
  });
  return c;
}

/** Call a node-zookeeper-client method with a trailing callback; resolve its results. */
export function call<T = unknown[]>(client: NzkClient, method: string, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](...args, (err: unknown, ...rest: unknown[]) => (err ? reject(err) : resolve(rest as T)));
  });
}
