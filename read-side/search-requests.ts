/**
 * The Elasticsearch request of a SearchSpec: filters are `filter` clauses, and free
 * text is a `match` (every word, `operator: and`) on an analysed field, so whatever
 * a user typed (quotes, `*`, `field:value`, JSON, script fragments) is only ever
 * words to look for; never query-string syntax.
 *
 * A facet counts what matches every filter but the post-filter, so a client can
 * show how many hits each other choice would give: the post-filter applies after
 * the aggregations. Each request asks for one hit more than the page, to know
 * whether there is a next one. Every request is filtered to one tenant's
 * documents, whatever the query asked for.
 */
import type { estypes } from '@elastic/elasticsearch';
import type { SortValues } from '../stores/elasticsearch/elasticsearch-read-model.js';
import { tenantField } from '../stores/elasticsearch/elasticsearch-layout.js';
import type { SearchSpec } from './query-definition.js';

export type SearchRequest = estypes.SearchRequest & { size: number };

export function searchRequest(spec: SearchSpec, tenant: string, after?: SortValues): SearchRequest {
  const text = spec.text;
  const must: estypes.QueryDslQueryContainer[] =
    text === undefined ? [] : [{ match: { [text.field ?? 'text']: { query: text.query, operator: 'and' } } }];
  const should: estypes.QueryDslQueryContainer[] =
    text === undefined ? [] : Object.entries(text.boost ?? {}).map(([field, boost]) => ({ match: { [field]: { query: text.query, boost } } }));
  const facets = Object.entries(spec.facets ?? {});
  return {
    query: { bool: { filter: [{ term: { [tenantField]: tenant } }, ...(spec.filters ?? [])], ...(must.length > 0 ? { must } : {}), ...(should.length > 0 ? { should } : {}) } },
    ...(spec.postFilter === undefined ? {} : { post_filter: spec.postFilter }),
    ...(facets.length > 0 ? { aggs: Object.fromEntries(facets.map(([name, { field, size }]) => [name, { terms: { field, size } }])) } : {}),
    sort: spec.sort,
    size: spec.size + 1,
    track_total_hits: true,
    version: true,
    ...(after === undefined ? {} : { search_after: [...after] }),
  };
}
