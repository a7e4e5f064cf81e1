/**
 * Product with stock (Redis): GET /products/{sku}. Stock figures come from the
 * events themselves (onHand and availableAfter are in them), so the read model
 * cannot drift from the aggregate's own count.
 */
import { defineRedisProjection } from 'strata';
import { missingDocument, productData } from '../events.js';

export type ProductStock = {
  sku: string;
  name: string;
  description: string;
  tags: string[];
  priceCents: number;
  currency: string;
  onHand: number;
  reserved: number;
  available: number;
  updatedAt: string;
};

const withAvailable = (product: ProductStock, available: number, updatedAt: string): ProductStock => ({
  ...product,
  available,
  reserved: product.onHand - available,
  updatedAt,
});

export const productStock = defineRedisProjection<ProductStock>({
  name: 'product-stock',
  version: 1,
  description: 'product details with available and reserved stock (GET /products/{sku})',
  store: 'redis',
  aggregateType: 'Product',
  eventTypes: ['ProductRegistered', 'ProductPriceChanged', 'ProductRestocked', 'StockReserved', 'StockReleased'],
  project(event, current) {
    if (event.type === 'ProductRegistered') {
      const { name, description, tags, price: { cents: priceCents, currency } } = productData(event, 'ProductRegistered');
      const registered = { sku: event.aggregateId, name, description, tags, priceCents, currency, onHand: 0, reserved: 0, available: 0, updatedAt: event.timestamp };
      return { document: registered, effects: [] };
    }
    if (current === undefined) return missingDocument(event);
    const updatedAt = event.timestamp;
    switch (event.type) {
      case 'ProductPriceChanged':
        return { document: { ...current, priceCents: productData(event, 'ProductPriceChanged').priceCents, updatedAt }, effects: [] };
      case 'ProductRestocked': {
        const { quantity, onHand } = productData(event, 'ProductRestocked');
        return { document: withAvailable({ ...current, onHand }, current.available + quantity, updatedAt), effects: [] };
      }
      case 'StockReserved':
        return { document: withAvailable(current, productData(event, 'StockReserved').availableAfter, updatedAt), effects: [] };
      default:
        return { document: withAvailable(current, productData(event, 'StockReleased').availableAfter, updatedAt), effects: [] };
    }
  },
});
