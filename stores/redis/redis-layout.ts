/**
 * Where a projection lives in Redis, for the sink that writes it and the read model
 * that reads it. A projection's keys live under its own namespace,
 * `<prefix>:<name>:v<version>:`, so that a new version is built beside the live
 * one; `<prefix>:<name>:live` names the version queries read. Inside it every
 * tenant has its own names: documents `doc:<tenant>/<id>`, the projection's shared
 * keys `<tenant>/<key>` (auth/tenants.ts), so no tenant's read reaches another's.
 *
 * Each document is a hash {v: version, d: JSON}; the checkpoint is a hash of
 * partition → next offset.
 */
import type { Config } from '../../shared/config.js';
import type { ProjectionVersion } from '../../shared/projection-id.js';

export interface RedisNamespace {
  /** Every key of the projection, whatever its version, starts with it. */
  base: string;
  /** Every key of this projection version starts with it: `<base>v<version>:`. */
  prefix: string;
  document: (id: string) => string;
  /** A shared key of the projection's effects. */
  key: (relative: string) => string;
  checkpoint: string;
  /** Holds the live version's number. */
  livePointer: string;
}

/** Keys relative to a version's namespace. */
export const documentKey = (id: string) => `doc:${id}`;
export const checkpointKey = 'checkpoint';

export function redisNamespace(config: Pick<Config, 'topics'>, projection: ProjectionVersion): RedisNamespace {
  const base = `${config.topics.prefix}:${projection.name}:`;
  const prefix = `${base}v${String(projection.version)}:`;
  return {
    base,
    prefix,
    document: (id) => `${prefix}${documentKey(id)}`,
    key: (relative) => `${prefix}${relative}`,
    checkpoint: `${prefix}${checkpointKey}`,
    livePointer: `${base}live`,
  };
}
