/**
 * An Elasticsearch cluster of its own beside the project's stack: `nodes` nodes in a
 * temporary stack folder, on free ports. For the node-loss fault test; Strata's
 * clients reach it through the `STRATA_ELASTICSEARCH_URL` it gives, which lists
 * every node.
 */
import { localElasticsearch } from './elasticsearch-server.js';
import { freePortRange } from './ports.js';
import type { Reporter } from './reporter.js';
import { startStackCluster, type StackCluster } from './stack-cluster.js';

export interface ElasticsearchCluster extends StackCluster {
  /** Every node's URL, for STRATA_ELASTICSEARCH_URL. */
  urls: string;
}

export async function startElasticsearchCluster(nodes: number, reporter: Reporter): Promise<ElasticsearchCluster> {
  // Node n's HTTP port is base + n − 1, its transport port base + nodes + n − 1.
  const base = await freePortRange(2 * nodes);
  const env = { STRATA_ELASTICSEARCH_PORT: String(base), STRATA_ELASTICSEARCH_TRANSPORT_PORT: String(base + nodes), STRATA_ELASTICSEARCH_HEAP: '512m' };
  const cluster = await startStackCluster('elasticsearch', nodes, env, reporter);
  return {
    ...cluster,
    urls: Array.from({ length: nodes }, (_, index) => localElasticsearch(cluster.stackConfig, index + 1).url).join(','),
  };
}
