/**
 * The Elasticsearch requests of the two search routes, built from validated
 * parameters as structured queries: filters are `term`/`range` clauses, and free
 * text is a `match` on the analysed `text` field, so whatever `q` holds (quotes,
 * `*`, `field:value`, JSON, script fragments) is only ever words to look for.
 *
 * A facet counts what matches every filter but its own (status for orders, tag for
 * products), so a client can show how many hits each other choice would give: the
 * facet's own filter goes in `post_filter`, after the aggregation.
 *
 * Sorts end on the document id, so that `search_after` pages never repeat or skip.
 * Each request asks for one hit more than the page, to know if there is a next.
 */
import type { estypes } from '@elastic/elasticsearch';
import { orderStatuses, type OrderSearchQuery, type ProductSearchQuery } from './read-api.js';
import type { SortValues } from './search-cursor.js';

/** Tag facets returned, most frequent first. */
export const tagFacetSize = 20;

type SearchRequest = estypes.SearchRequest & { size: number };

const words = (q: string): estypes.QueryDslQueryContainer => ({ match: { text: { query: q, operator: 'and' } } });
const term = (field: string, value: string): estypes.QueryDslQueryContainer => ({ term: { [field]: value } });

function page(size: number, after: SortValues | undefined) {
  return {
    size: size + 1,
    track_total_hits: true,
    version: true,
    ...(after === undefined ? {} : { search_after: [...after] }),
  };
}

export function orderSearchRequest(query: OrderSearchQuery, size: number, after?: SortValues): SearchRequest {
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (query.customerId !== undefined) filter.push(term('customerId', query.customerId));
  if (query.sku !== undefined) filter.push(term('skus', query.sku));
  if (query.placedFrom !== undefined || query.placedTo !== undefined) {
    filter.push({ range: { placedAt: { gte: query.placedFrom, lte: query.placedTo } } });
  }
  return {
    query: { bool: { filter, ...(query.q === undefined ? {} : { must: [words(query.q)] }) } },
    ...(query.status === undefined ? {} : { post_filter: term('status', query.status) }),
    aggs: { statusCounts: { terms: { field: 'status', size: orderStatuses.length } } },
    sort: [{ placedAt: 'desc' }, { orderId: 'asc' }],
    ...page(size, after),
  };
}

export function productSearchRequest(query: ProductSearchQuery, size: number, after?: SortValues): SearchRequest {
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (query.minPriceCents !== undefined || query.maxPriceCents !== undefined) {
    filter.push({ range: { priceCents: { gte: query.minPriceCents, lte: query.maxPriceCents } } });
  }
  const relevance =
    query.q === undefined
      ? {}
      : // Every word must be somewhere in the product; matches in the name rank first.
        { must: [words(query.q)], should: [{ match: { name: { query: query.q, boost: 3 } } }] };
  return {
    query: { bool: { filter, ...relevance } },
    ...(query.tag === undefined ? {} : { post_filter: term('tags', query.tag) }),
    aggs: { tagCounts: { terms: { field: 'tags', size: tagFacetSize } } },
    sort: query.q === undefined ? [{ 'name.sort': 'asc' }, { sku: 'asc' }] : [{ _score: { order: 'desc' } }, { sku: 'asc' }],
    ...page(size, after),
  };
}
