/**
 * The Elasticsearch factory. The client is pinned to 8.x: the 9.x client asks
 * for compatible-with=9, which an 8.19 server refuses.
 */
import { Client } from '@elastic/elasticsearch';
import type { Config } from './config.js';

export interface ElasticsearchClientOptions {
  requestTimeoutMs?: number;
  maxRetries?: number;
}

export function createElasticsearch(
  config: Pick<Config, 'elasticsearch'>,
  options: ElasticsearchClientOptions = {},
): Client {
  return new Client({
    node: config.elasticsearch.url,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    maxRetries: options.maxRetries ?? 3,
  });
}
