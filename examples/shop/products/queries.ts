/**
 * The products' read API: a product with its stock (Redis), the best sellers
 * (Redis ranking) and the catalogue search with tag facets (Elasticsearch).
 */
import { NotFoundError, Type, defineQuery, type SearchSpec, type Static } from 'strata';
import { Cursor, FreeText, Id, Limit, NextCursor, PageSize, PriceCents, Tag, Timestamp, Version, closed } from '../schemas.js';
import { productCatalogue, type CatalogueEntry } from './product-catalogue.js';
import { productStock, type ProductStock } from './product-stock.js';
import { topProducts, unitsKey } from './top-products.js';

/** Tag facets returned, most frequent first. */
export const tagFacetSize = 20;

/** What a product and a catalogue entry both show. */
const productFields = {
  sku: Type.String(),
  name: Type.String(),
  description: Type.String(),
  tags: Type.Array(Type.String()),
  priceCents: Type.Integer(),
  currency: Type.String(),
};

export const getProduct = defineQuery({
  name: 'getProduct',
  access: { roles: ['customer', 'clerk', 'admin'] },
  route: '/products/:sku',
  summary: 'A product with its available and reserved stock',
  tags: ['products'],
  params: Type.Object({ sku: Id('the product sku') }, closed),
  answer: Type.Object({
    ...productFields,
    onHand: Type.Integer(),
    reserved: Type.Integer(),
    available: Type.Integer(),
    updatedAt: Timestamp,
    version: Version,
  }),
  reads: [productStock],
  async run({ sku }, read) {
    const product = await read.document<ProductStock>(productStock, sku);
    if (product === undefined) throw new NotFoundError(`no product ${sku}`);
    return product;
  },
});

export const getTopProducts = defineQuery({
  name: 'getTopProducts',
  access: { roles: ['customer', 'clerk', 'admin'] },
  route: '/products/top',
  summary: 'Best sellers by confirmed units',
  tags: ['products'],
  params: Type.Object({ limit: Limit(10) }, closed),
  answer: Type.Object({
    products: Type.Array(Type.Object({ sku: Type.String(), units: Type.Integer({ description: 'confirmed units, net of cancellations' }) })),
  }),
  reads: [topProducts],
  async run({ limit }, read) {
    const ranked = await read.ranking(topProducts, unitsKey, limit ?? 10);
    return { products: ranked.map(({ member, score }) => ({ sku: member, units: Math.round(score) })) };
  },
});

const productSearchParams = Type.Object(
  {
    q: FreeText,
    tag: Type.Optional(Tag),
    minPriceCents: Type.Optional(PriceCents),
    maxPriceCents: Type.Optional(PriceCents),
    size: PageSize,
    cursor: Cursor,
  },
  closed,
);

export type ProductSearchParams = Static<typeof productSearchParams>;

/** Every word of q somewhere in the product, matches in the name first; the tag filter after the tag facet. */
export function productSearchSpec(params: ProductSearchParams): SearchSpec {
  const { q, tag, minPriceCents, maxPriceCents } = params;
  return {
    filters: minPriceCents === undefined && maxPriceCents === undefined ? [] : [{ range: { priceCents: { gte: minPriceCents, lte: maxPriceCents } } }],
    text: q === undefined ? undefined : { query: q, boost: { name: 3 } },
    postFilter: tag === undefined ? undefined : { term: { tags: tag } },
    facets: { tagCounts: { field: 'tags', size: tagFacetSize } },
    sort: q === undefined ? [{ 'name.sort': 'asc' }, { sku: 'asc' }] : [{ _score: { order: 'desc' } }, { sku: 'asc' }],
    size: params.size ?? 20,
    cursor: params.cursor,
  };
}

export const searchProducts = defineQuery({
  name: 'searchProducts',
  access: { roles: ['customer', 'clerk', 'admin'] },
  route: '/products',
  summary: 'Catalogue search with tag facets',
  tags: ['products'],
  params: productSearchParams,
  answer: Type.Object({
    products: Type.Array(Type.Object({ ...productFields, registeredAt: Timestamp, updatedAt: Timestamp, version: Version })),
    total: Type.Integer({ description: 'products matching every filter' }),
    tagCounts: Type.Array(Type.Object({ tag: Type.String(), count: Type.Integer() }), {
      description: `products matching every filter but tag, by tag: the ${String(tagFacetSize)} most frequent`,
    }),
    nextCursor: NextCursor,
  }),
  reads: [productCatalogue],
  async run(params, read) {
    const page = await read.search<CatalogueEntry & { registeredAt: string }>(productCatalogue, productSearchSpec(params));
    return {
      products: page.hits,
      total: page.total,
      tagCounts: (page.facets.tagCounts ?? []).map(({ key, count }) => ({ tag: key, count })),
      nextCursor: page.nextCursor,
    };
  },
});

export const productQueries = [getProduct, getTopProducts, searchProducts];
