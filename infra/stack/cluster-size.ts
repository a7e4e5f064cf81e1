import { existsSync, readFileSync } from 'node:fs';
import { StackError } from '../../shared/errors.js';

export interface SizeRecord {
  /** The file the size was written to when the cluster's data was made. */
  file: string;
  /** Whether the first node's data exists (made before the record existed: one node). */
  made: boolean;
  /** How the refusal names the server, its nodes and the `up` option. */
  server: string;
  nodes: string;
  option: string;
}

/**
 * A local cluster's size: as recorded when its data was made, else `asked`, else 1.
 * Asking for another size than the data holds is refused: the nodes' membership is
 * written in their storage.
 */
export function clusterSize(record: SizeRecord, asked?: number): number {
  const recorded = existsSync(record.file) ? Number(readFileSync(record.file, 'utf8')) : record.made ? 1 : undefined;
  if (recorded !== undefined && asked !== undefined && asked !== recorded) {
    throw new StackError(
      `the local ${record.server} holds a cluster of ${recorded} ${record.nodes}, not ${asked}.`,
      `Use ${record.option} ${recorded}, or delete its data first: strata infra down --purge ${record.server.toLowerCase()}`,
    );
  }
  return recorded ?? asked ?? 1;
}
