/**
 * The shop's evolved event types as the log holds them: given an event as it was
 * written (ProductRegistered v1 with `priceCents` and `currency`; the reservation
 * events v1 with `available`; OrderPlaced v1 without a channel), when it is read
 * today, then it is v2.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { projectionSpec, testEvent, upcastEvent } from 'strata/testing';
import { orderEvents } from '../orders/order.js';
import { productEvents } from '../products/product.js';
import { productStock } from '../products/product-stock.js';

const v1 = { ...testEvent('Product', 'mug', 1, 'ProductRegistered', { name: 'Blue mug', description: 'Stoneware', priceCents: 1200, currency: 'EUR', tags: ['kitchen'] }), schemaVersion: 1 };

describe('Product event types', () => {
  it('reads ProductRegistered v1 as v2, its price an object', () => {
    const read = upcastEvent(productEvents, v1);
    assert.equal(read.schemaVersion, 2);
    assert.deepEqual(read.data, { name: 'Blue mug', description: 'Stoneware', price: { cents: 1200, currency: 'EUR' }, tags: ['kitchen'] });
    assert.deepEqual({ ...read, data: v1.data, schemaVersion: 1 }, v1, 'only the data and its version change');
  });

  for (const type of ['StockReserved', 'StockReservationRejected', 'StockReleased']) {
    it(`reads ${type} v1 as v2, its \`available\` named \`availableAfter\``, () => {
      const read = upcastEvent(productEvents, { ...testEvent('Product', 'mug', 3, type, { orderId: 'o-1', quantity: 2, available: 8 }), schemaVersion: 1 });
      assert.deepEqual([read.type, read.schemaVersion, read.data], [type, 2, { orderId: 'o-1', quantity: 2, availableAfter: 8 }]);
    });
  }

  it('reads a current event as it is', () => {
    const v2 = { ...v1, schemaVersion: 2, data: { name: 'Lamp', description: '', price: { cents: 3000, currency: 'EUR' }, tags: [] } };
    assert.equal(upcastEvent(productEvents, v2), v2);
  });
});

describe('Order event types', () => {
  it('reads OrderPlaced v1 as v2, with the channel unknown', () => {
    const placed = { customerId: 'ada', lines: [{ sku: 'mug', quantity: 1, unitPriceCents: 1200 }], currency: 'EUR', totalCents: 1200 };
    const read = upcastEvent(orderEvents, { ...testEvent('Order', 'o-1', 1, 'OrderPlaced', placed), schemaVersion: 1 });
    assert.deepEqual([read.schemaVersion, read.data], [2, { ...placed, channel: 'unknown' }]);
  });
});

describe('the read models, given events as v1 wrote them', () => {
  const restocked = testEvent('Product', 'mug', 2, 'ProductRestocked', { quantity: 10, onHand: 10 });
  const stocked = { sku: 'mug', name: 'Blue mug', description: 'Stoneware', tags: ['kitchen'], priceCents: 1200, currency: 'EUR', onHand: 10, reserved: 0, available: 10 };

  it('builds a product from a v1 ProductRegistered as from a v2 one', () => {
    projectionSpec(productStock, { events: productEvents })
      .given([v1])
      .when(restocked)
      .then({ ...stocked, updatedAt: restocked.timestamp });
  });

  it('counts stock from a v1 StockReserved as from a v2 one', () => {
    const reserved = { ...testEvent('Product', 'mug', 3, 'StockReserved', { orderId: 'o-1', quantity: 3, available: 7 }), schemaVersion: 1 };
    projectionSpec(productStock, { events: productEvents })
      .given([v1, restocked])
      .when(reserved)
      .then({ ...stocked, reserved: 3, available: 7, updatedAt: reserved.timestamp });
  });
});
