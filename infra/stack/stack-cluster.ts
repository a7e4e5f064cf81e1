/**
 * A cluster of its own beside the project's stack: the nodes of one kind of server
 * in a temporary stack folder, on ports the caller found free. For the fault tests
 * and benchmarks that kill a node (kafka-cluster.ts, elasticsearch-cluster.ts); the
 * project's stack is never touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../shared/config.js';
import type { Reporter } from './reporter.js';
import { down, selectServers, status, up, type ServerStatus } from './stack.js';

export interface StackCluster {
  /** The cluster's stack configuration (its folder and ports). */
  stackConfig: Config;
  nodes(): Promise<ServerStatus[]>;
  /** Starts the nodes that are not running (one that was killed). */
  restart(): Promise<void>;
  /** Stops every node and deletes the cluster's data (under /var/lib/strata too) and folder. */
  remove(): Promise<void>;
}

/** Starts `size` nodes of `kind` with the settings `env` (their ports, heap) over this process's. */
export async function startStackCluster(kind: 'kafka' | 'elasticsearch', size: number, env: Record<string, string>, reporter: Reporter): Promise<StackCluster> {
  const dir = mkdtempSync(join(tmpdir(), `strata-${kind}-cluster-`));
  const stackConfig = loadConfig({ ...process.env, ...env, STRATA_STACK_DIR: dir });
  const nodes = () => (kind === 'kafka' ? selectServers(stackConfig, [kind], size) : selectServers(stackConfig, [kind], undefined, size));
  const remove = async () => {
    await down(stackConfig, nodes(), { purge: true }, reporter);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await up(stackConfig, nodes(), reporter);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    stackConfig,
    nodes: () => status(stackConfig, nodes()),
    restart: async () => { await up(stackConfig, nodes(), reporter); },
    remove,
  };
}
