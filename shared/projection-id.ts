/**
 * Which projection version a name belongs to: the projector's consumer groups, the
 * stores' indices, key namespaces and checkpoints, and the query side all name a
 * version by it, so it lives below them all.
 */

/** A projection version, whatever its store. */
export interface ProjectionVersion {
  name: string;
  version: number;
}

/** The projection and version a consumer group, an index or a key namespace belongs to. */
export const projectionId = (projection: ProjectionVersion) => `${projection.name}.v${String(projection.version)}`;
