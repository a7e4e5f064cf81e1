/**
 * Product catalogue (Elasticsearch): GET /products with free text over name,
 * description and sku, tag filters and facets, and a price range.
 */
import { defineElasticsearchProjection } from 'strata';
import type { ProductStock } from './product-stock.js';
import { missingDocument, productData } from '../events.js';

export type CatalogueEntry = Pick<ProductStock, 'sku' | 'name' | 'description' | 'tags' | 'priceCents' | 'currency' | 'updatedAt'> & {
  registeredAt: string;
};

export const productCatalogue = defineElasticsearchProjection<CatalogueEntry>({
  name: 'product-catalogue',
  version: 1,
  description: 'catalogue search with tag facets (GET /products)',
  store: 'elasticsearch',
  aggregateType: 'Product',
  eventTypes: ['ProductRegistered', 'ProductPriceChanged'],
  project(event, current) {
    if (event.type === 'ProductRegistered') {
      const { name, description, tags, price: { cents: priceCents, currency } } = productData(event, 'ProductRegistered');
      return { sku: event.aggregateId, name, description, tags, priceCents, currency, registeredAt: event.timestamp, updatedAt: event.timestamp };
    }
    if (current === undefined) return missingDocument(event);
    return { ...current, priceCents: productData(event, 'ProductPriceChanged').priceCents, updatedAt: event.timestamp };
  },
  mappings: {
    dynamic: 'strict',
    properties: {
      sku: { type: 'keyword', copy_to: 'text' },
      name: { type: 'text', analyzer: 'standard', copy_to: 'text', fields: { sort: { type: 'keyword', ignore_above: 256 } } },
      description: { type: 'text', analyzer: 'standard', copy_to: 'text' },
      tags: { type: 'keyword' },
      priceCents: { type: 'long' },
      currency: { type: 'keyword' },
      registeredAt: { type: 'date' },
      updatedAt: { type: 'date' },
      text: { type: 'text', analyzer: 'standard' },
    },
  },
});
