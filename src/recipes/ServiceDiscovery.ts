// Service discovery in the layout of Curator's x-discovery: an instance of service `name` is the
// node `<basePath>/<name>/<id>`, whose data is the instance as Curator's JsonInstanceSerializer
// writes it (the fields of ServiceInstance: name, id, address, port, sslPort, payload,
// registrationTimeUTC, serviceType, uriSpec, enabled). DYNAMIC instances are ephemeral nodes, so
// they vanish with the session that registered them; PERMANENT and STATIC ones are persistent.
//
// Curator's ServiceInstance.payload carries Jackson type information: the payload object's first
// property is "@class", the Java class Curator instantiates (java.util.HashMap for a Map, or the
// service's own class). A Java reader whose payload class is its own POJO needs that name in the
// JSON, so `payloadClass` (per instance, or a default for the ServiceDiscovery) writes it; when
// reading, "@class" is taken out of the payload into `payloadClass`, so Node code sees the
// payload's own properties whoever wrote it, and rewriting an instance keeps its class name.
import { randomUUID } from 'node:crypto';
import { Err } from '../protocol/constants.js';
import { isZooKeeperError, ZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { CreateModeName } from '../client/types.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { ensurePath, retrying, deleteQuietly } from './support.js';

export type ServiceType = 'DYNAMIC' | 'DYNAMIC_SEQUENTIAL' | 'STATIC' | 'PERMANENT';

export interface UriSpecPart {
  value: string;
  variable: boolean;
}

export interface ServiceInstance<P = unknown> {
  name: string;
  id: string;
  address: string | null;
  port: number | null;
  sslPort: number | null;
  payload: P | null;
  /** ms since the epoch, UTC. */
  registrationTimeUTC: number;
  serviceType: ServiceType;
  uriSpec: { parts: UriSpecPart[] } | null;
  enabled: boolean;
  /**
   * Java class of an object payload, stored as its "@class" property (Curator's Jackson type id),
   * e.g. 'java.util.HashMap' or 'com.example.InstanceDetails'; null when the JSON names none.
   */
  payloadClass?: string | null;
}

export type ServiceInstanceInput<P> = Partial<ServiceInstance<P>> & { name: string };

const modeOf: Record<ServiceType, CreateModeName> = {
  DYNAMIC: 'EPHEMERAL',
  DYNAMIC_SEQUENTIAL: 'EPHEMERAL_SEQUENTIAL',
  STATIC: 'PERSISTENT',
  PERMANENT: 'PERSISTENT',
};

/** Fills the defaults Curator's ServiceInstanceBuilder uses (random id, DYNAMIC, enabled). */
export function serviceInstance<P>(input: ServiceInstanceInput<P>): ServiceInstance<P> {
  if (!input.name || input.name.includes('/')) throw new TypeError('service name must be non-empty and contain no "/"');
  const id = input.id ?? randomUUID();
  if (id.includes('/')) throw new TypeError('service instance id must contain no "/"');
  return {
    name: input.name,
    id,
    address: input.address ?? null,
    port: input.port ?? null,
    sslPort: input.sslPort ?? null,
    payload: input.payload ?? null,
    registrationTimeUTC: input.registrationTimeUTC ?? Date.now(),
    serviceType: input.serviceType ?? 'DYNAMIC',
    uriSpec: input.uriSpec ?? null,
    enabled: input.enabled ?? true,
    payloadClass: input.payloadClass ?? null,
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON Curator's JsonInstanceSerializer writes: properties in ServiceInstance order, "@class" first in the payload. */
export function encodeInstance<P>(inst: ServiceInstance<P>, defaultPayloadClass: string | null = null): string {
  const { payloadClass, payload, ...rest } = inst;
  const cls = payloadClass ?? defaultPayloadClass;
  let outPayload: unknown = payload;
  if (cls && isPlainObject(payload)) {
    const { '@class': _ignored, ...props } = payload;
    outPayload = { '@class': cls, ...props };
  }
  const o: Record<string, unknown> = {};
  for (const k of ['name', 'id', 'address', 'port', 'sslPort', 'payload', 'registrationTimeUTC', 'serviceType', 'uriSpec', 'enabled'] as const) {
    o[k] = k === 'payload' ? outPayload : rest[k];
  }
  return JSON.stringify(o);
}

function decode<P>(data: Buffer | null, path: string): ServiceInstance<P> {
  let v: unknown;
  try {
    v = JSON.parse(data?.toString('utf8') ?? '');
  } catch {
    throw new ZooKeeperError(Err.BadArguments, path, `${path} does not hold a JSON service instance`);
  }
  const o = v as Partial<ServiceInstance<P>>;
  if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || typeof o.id !== 'string') {
    throw new ZooKeeperError(Err.BadArguments, path, `${path} does not hold a service instance (name and id missing)`);
  }
  let payload: unknown = o.payload ?? null;
  let payloadClass: string | null = null;
  if (isPlainObject(payload) && typeof payload['@class'] === 'string') {
    const { '@class': cls, ...props } = payload;
    payloadClass = cls as string;
    payload = props;
  }
  // Instances written before Curator had `enabled` count as enabled, as Curator reads them.
  return {
    ...serviceInstance<P>({ ...o, name: o.name, payload: payload as P | null, payloadClass }),
    registrationTimeUTC: Number(o.registrationTimeUTC ?? 0),
    enabled: o.enabled ?? true,
  };
}

export interface ServiceDiscoveryOptions {
  /**
   * Java class named in "@class" of object payloads this ServiceDiscovery writes when the instance
   * names none (Curator readers with a payload class of their own need it). Default: none.
   */
  payloadClass?: string;
}

export class ServiceDiscovery<P = unknown> {
  private readonly payloadClass: string | null;

  constructor(
    readonly zk: ZooKeeper,
    /** Root of the registry, e.g. '/services' (Curator's basePath). */
    readonly basePath: string,
    options: ServiceDiscoveryOptions = {},
  ) {
    this.payloadClass = options.payloadClass ?? null;
  }

  private instancePath(name: string, id: string): string {
    return joinPath(joinPath(this.basePath, name), id);
  }

  /** Registers an instance; an existing node with the same id is replaced. Returns the instance as stored. */
  async registerService(input: ServiceInstanceInput<P>): Promise<ServiceInstance<P>> {
    const inst = serviceInstance(input);
    const dir = joinPath(this.basePath, inst.name);
    await ensurePath(this.zk, dir, undefined, 'CONTAINER');
    const mode = modeOf[inst.serviceType];
    for (;;) {
      try {
        const created = await this.zk.create(this.instancePath(inst.name, inst.id), encodeInstance(inst, this.payloadClass), { mode });
        return mode === 'EPHEMERAL_SEQUENTIAL' ? { ...inst, id: created.slice(dir.length + 1) } : inst;
      } catch (e) {
        if (isZooKeeperError(e, Err.NodeExists)) {
          await deleteQuietly(this.zk, this.instancePath(inst.name, inst.id));
          continue;
        }
        if (isZooKeeperError(e, Err.NoNode)) {
          await ensurePath(this.zk, dir, undefined, 'CONTAINER');
          continue;
        }
        throw e;
      }
    }
  }

  /** Rewrites a registered instance's data (NoNode if it is not registered). */
  async updateService(inst: ServiceInstance<P>): Promise<void> {
    await retrying(this.zk, () => this.zk.setData(this.instancePath(inst.name, inst.id), encodeInstance(inst, this.payloadClass)));
  }

  async unregisterService(inst: Pick<ServiceInstance<P>, 'name' | 'id'>): Promise<void> {
    await deleteQuietly(this.zk, this.instancePath(inst.name, inst.id));
  }

  /** Names of the registered services. */
  async queryForNames(): Promise<string[]> {
    try {
      return (await retrying(this.zk, () => this.zk.getChildren(this.basePath))).sort();
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) return [];
      throw e;
    }
  }

  /** Every instance of `name` (disabled ones included, as Curator's queryForInstances). */
  async queryForInstances(name: string): Promise<ServiceInstance<P>[]> {
    let ids: string[];
    try {
      ids = await retrying(this.zk, () => this.zk.getChildren(joinPath(this.basePath, name)));
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) return [];
      throw e;
    }
    const out: ServiceInstance<P>[] = [];
    for (const id of ids.sort()) {
      const got = await this.queryForInstance(name, id);
      if (got) out.push(got);
    }
    return out;
  }

  /** One instance, or null when it is not registered. */
  async queryForInstance(name: string, id: string): Promise<ServiceInstance<P> | null> {
    const path = this.instancePath(name, id);
    try {
      return decode<P>((await retrying(this.zk, () => this.zk.getData(path))).data, path);
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) return null;
      throw e;
    }
  }
}
