/**
 * The Elasticsearch factory. The client is pinned to 8.x: the 9.x client asks
 * for compatible-with=9, which an 8.19 server refuses. Signs in with the API key
 * when one is set, else with the login and password (or those in the URL); over
 * https:// it trusts STRATA_ELASTICSEARCH_CA when set.
 */
import { readFileSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import type { StoreAccess } from './config.js';

/** Where and how a client reaches Elasticsearch (Config's `elasticsearch` has it all). */
export interface ElasticsearchAccess {
  elasticsearch: StoreAccess & { url: string; apiKey?: string };
}
import { storePassword } from './project-secret.js';

export interface ElasticsearchClientOptions {
  requestTimeoutMs?: number;
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
  return new Client({
    node: config.elasticsearch.url,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    maxRetries: options.maxRetries ?? 3,
    ...authOf(config),
    ...(ca === undefined ? {} : { tls: { ca: readFileSync(ca) } }),
  });
}
