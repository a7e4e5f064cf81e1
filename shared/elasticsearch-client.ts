/**
 * The Elasticsearch factory. The client is pinned to 8.x: the 9.x client asks
 * for compatible-with=9, which an 8.19 server refuses. Signs in with the API key
 * when one is set, else with the login and password (or those in each URL); over
 * https:// it trusts STRATA_ELASTICSEARCH_CA when set.
 *
 * Several nodes (STRATA_ELASTICSEARCH_URL lists them): a request that cannot reach a
 * node (refused, reset) is tried on the next, on top of the retries the caller asks
 * for, so that `maxRetries: 0` still means one attempt per node; a timeout is not
 * retried (the node may be slow rather than gone, and the caller's deadline has
 * passed). A node that failed is left out (ClusterConnectionPool) until a ping in the
 * background finds it back, 60 s later at the earliest, instead of getting every few
 * hundredth request as the default weighted pool does.
 */
import { readFileSync } from 'node:fs';
import { Client, ClusterConnectionPool } from '@elastic/elasticsearch';
import { splitUrls, type StoreAccess } from './config.js';
import { storePassword } from './project-secret.js';

/** Where and how a client reaches Elasticsearch (Config's `elasticsearch` has it all); `url` may list several nodes. */
export interface ElasticsearchAccess {
  elasticsearch: StoreAccess & { url: string; apiKey?: string };
}

export interface ElasticsearchClientOptions {
  requestTimeoutMs?: number;
  /** Retries of a request that could not reach a node, besides one attempt on each other node. */
  maxRetries?: number;
}

function authOf({ elasticsearch }: ElasticsearchAccess) {
  if (elasticsearch.apiKey !== undefined) return { auth: { apiKey: elasticsearch.apiKey } };
  if (elasticsearch.login === undefined) return {};
  return { auth: { username: elasticsearch.login, password: storePassword(elasticsearch) ?? '' } };
}

export function createElasticsearch(
  config: ElasticsearchAccess,
  options: ElasticsearchClientOptions = {},
): Client {
  const { ca } = config.elasticsearch;
  const nodes = splitUrls(config.elasticsearch.url);
  return new Client({
    nodes,
    ...(nodes.length > 1 ? { ConnectionPool: ClusterConnectionPool } : {}),
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    maxRetries: (options.maxRetries ?? 3) + nodes.length - 1,
    ...authOf(config),
    ...(ca === undefined ? {} : { tls: { ca: readFileSync(ca) } }),
  });
}
