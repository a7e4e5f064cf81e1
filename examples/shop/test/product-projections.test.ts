/**
 * The product read models, given/when/then: product with stock (Redis) and the
 * catalogue (Elasticsearch).
 */
import { describe, it } from 'node:test';
import { projectionSpec, testEvent } from 'strata/testing';
import { productCatalogue } from '../products/product-catalogue.js';
import { productStock } from '../products/product-stock.js';

const product = (version: number, type: string, data: unknown) => testEvent('Product', 'mug', version, type, data);
const registered = { ...product(1, 'ProductRegistered', { name: 'Blue mug', description: 'Stoneware', price: { cents: 1200, currency: 'EUR' }, tags: ['kitchen'] }), schemaVersion: 2 };
const repriced = product(2, 'ProductPriceChanged', { priceCents: 900, previousPriceCents: 1200 });
const restocked = product(3, 'ProductRestocked', { quantity: 10, onHand: 10 });
const reserved = product(4, 'StockReserved', { orderId: 'order-1', quantity: 3, availableAfter: 7 });
const released = product(5, 'StockReleased', { orderId: 'order-1', quantity: 3, availableAfter: 10 });

describe('product stock projection', () => {
  const spec = projectionSpec(productStock);
  const stock = {
    sku: 'mug',
    name: 'Blue mug',
    description: 'Stoneware',
    tags: ['kitchen'],
    priceCents: 1200,
    currency: 'EUR',
    onHand: 0,
    reserved: 0,
    available: 0,
    updatedAt: registered.timestamp,
  };
  it('ProductRegistered creates the product with no stock', () => {
    spec.given([]).when(registered).then(stock);
  });
  it('ProductPriceChanged changes the price', () => {
    spec.given([registered]).when(repriced).then({ ...stock, priceCents: 900, updatedAt: repriced.timestamp });
  });
  it('ProductRestocked adds to what is on hand and available', () => {
    spec.given([registered, repriced]).when(restocked).then({ ...stock, priceCents: 900, onHand: 10, available: 10, updatedAt: restocked.timestamp });
  });
  it('StockReserved moves stock from available to reserved', () => {
    spec
      .given([registered, repriced, restocked])
      .when(reserved)
      .then({ ...stock, priceCents: 900, onHand: 10, available: 7, reserved: 3, updatedAt: reserved.timestamp });
  });
  it('StockReleased gives it back', () => {
    spec
      .given([registered, repriced, restocked, reserved])
      .when(released)
      .then({ ...stock, priceCents: 900, onHand: 10, available: 10, reserved: 0, updatedAt: released.timestamp });
  });
  it('refuses stock events for a product it never saw registered (a dead letter)', () => {
    spec.given([]).when(restocked).thenThrows(/ProductRestocked v3 for Product mug, which the read model does not hold/);
  });
});

describe('product catalogue projection', () => {
  const spec = projectionSpec(productCatalogue);
  const entry = {
    sku: 'mug',
    name: 'Blue mug',
    description: 'Stoneware',
    tags: ['kitchen'],
    priceCents: 1200,
    currency: 'EUR',
    registeredAt: registered.timestamp,
    updatedAt: registered.timestamp,
  };
  it('ProductRegistered adds the product to the catalogue', () => {
    spec.given([]).when(registered).then(entry);
  });
  it('ProductPriceChanged reprices it; stock events leave it alone', () => {
    spec.given([registered, restocked, reserved]).when(repriced).then({ ...entry, priceCents: 900, updatedAt: repriced.timestamp });
  });
  it('refuses a price change for an unknown product', () => {
    spec.given([]).when(repriced).thenThrows(/does not hold/);
  });
});
