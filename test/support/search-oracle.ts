/**
 * The brute-force answer to a search: the expected read-model documents filtered,
 * sorted and counted in memory, as the read API documents its search semantics.
 * The search correctness test compares the query service with this.
 *
 * Free text is matched the way the `standard` analyzer splits words for the data
 * the tests generate (ASCII ids, names and reasons): lower-cased, split at anything
 * but letters, digits and `_`. Every word of `q` must be among the document's.
 */
import type { OrderSearchParams as OrderSearchQuery } from '../../examples/shop/orders/queries.js';
import type { ProductSearchParams as ProductSearchQuery } from '../../examples/shop/products/queries.js';

export type OrderDocument = {
  orderId: string;
  customerId: string;
  status: string;
  skus: string[];
  placedAt: string;
  cancelReason: string | null;
  version: number;
};

export type CatalogueDocument = {
  sku: string;
  name: string;
  description: string;
  tags: string[];
  priceCents: number;
  version: number;
};

const wordsOf = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter((word) => word !== '');
const hasWords = (fields: readonly string[], q: string) => {
  const present = new Set(fields.flatMap(wordsOf));
  return wordsOf(q).length > 0 && wordsOf(q).every((word) => present.has(word));
};
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function expectedOrderSearch(documents: readonly OrderDocument[], query: OrderSearchQuery) {
  const placed = (order: OrderDocument) => Date.parse(order.placedAt);
  const matchesAllButStatus = documents.filter(
    (order) =>
      (query.customerId === undefined || order.customerId === query.customerId) &&
      (query.sku === undefined || order.skus.includes(query.sku)) &&
      (query.placedFrom === undefined || placed(order) >= Date.parse(query.placedFrom)) &&
      (query.placedTo === undefined || placed(order) <= Date.parse(query.placedTo)) &&
      (query.q === undefined || hasWords([order.orderId, order.customerId, ...order.skus, order.cancelReason ?? ''], query.q)),
  );
  const statusCounts = { placed: 0, confirmed: 0, shipped: 0, cancelled: 0 } as Record<string, number>;
  for (const order of matchesAllButStatus) statusCounts[order.status] = (statusCounts[order.status] ?? 0) + 1;
  const hits = matchesAllButStatus
    .filter((order) => query.status === undefined || order.status === query.status)
    .sort((a, b) => placed(b) - placed(a) || compare(a.orderId, b.orderId));
  return { ids: hits.map((order) => order.orderId), statusCounts };
}

export function expectedProductSearch(documents: readonly CatalogueDocument[], query: ProductSearchQuery, facetSize: number) {
  const matchesAllButTag = documents.filter(
    (product) =>
      (query.minPriceCents === undefined || product.priceCents >= query.minPriceCents) &&
      (query.maxPriceCents === undefined || product.priceCents <= query.maxPriceCents) &&
      (query.q === undefined || hasWords([product.sku, product.name, product.description], query.q)),
  );
  const counts = new Map<string, number>();
  for (const product of matchesAllButTag) for (const tag of product.tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  const tagCounts = [...counts]
    .map(([tag, count]) => ({ tag, count }))
    .sort((a, b) => b.count - a.count || compare(a.tag, b.tag))
    .slice(0, facetSize);
  const hits = matchesAllButTag
    .filter((product) => query.tag === undefined || product.tags.includes(query.tag))
    // Without q the order is by name, then sku; with q it is by relevance, which only the set is compared on.
    .sort((a, b) => compare(a.name, b.name) || compare(a.sku, b.sku));
  return { ids: hits.map((product) => product.sku), tagCounts };
}
