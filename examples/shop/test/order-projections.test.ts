/**
 * The order read models, given/when/then: order details and customer orders
 * (Redis), top products (Redis, with ranking effects) and order search
 * (Elasticsearch).
 */
import { describe, it } from 'node:test';
import { projectionSpec, testEvent } from 'strata/testing';
import { customerOrders, customerOrdersKey, keptPerCustomer } from '../orders/customer-orders.js';
import { orderDetails } from '../orders/order-details.js';
import { orderSearch } from '../orders/order-search.js';
import { topProducts, unitsKey } from '../products/top-products.js';

const lines = [
  { sku: 'mug', quantity: 2, unitPriceCents: 1200 },
  { sku: 'lamp', quantity: 1, unitPriceCents: 4500 },
];
const order = (version: number, type: string, data: unknown) => testEvent('Order', 'order-1', version, type, data);
const placed = order(1, 'OrderPlaced', { customerId: 'ada', lines, currency: 'EUR', totalCents: 6900 });
const confirmed = order(2, 'OrderConfirmed', { lines });
const shipped = order(3, 'OrderShipped', {});
const cancelledPlaced = order(2, 'OrderCancelled', { reason: 'out_of_stock', previousStatus: 'placed' });
const cancelledConfirmed = order(3, 'OrderCancelled', { reason: 'customer_request', previousStatus: 'confirmed' });

const details = {
  orderId: 'order-1',
  customerId: 'ada',
  status: 'placed',
  lines,
  currency: 'EUR',
  totalCents: 6900,
  placedAt: placed.timestamp,
  updatedAt: placed.timestamp,
  cancelReason: null,
};

describe('order details projection', () => {
  const spec = projectionSpec(orderDetails);
  it('OrderPlaced creates the order with its lines and total', () => {
    spec.given([]).when(placed).then(details);
  });
  it('OrderConfirmed and OrderShipped move the status', () => {
    spec.given([placed]).when(confirmed).then({ ...details, status: 'confirmed', updatedAt: confirmed.timestamp });
    spec.given([placed, confirmed]).when(shipped).then({ ...details, status: 'shipped', updatedAt: shipped.timestamp });
  });
  it('OrderCancelled records the reason', () => {
    spec
      .given([placed])
      .when(cancelledPlaced)
      .then({ ...details, status: 'cancelled', cancelReason: 'out_of_stock', updatedAt: cancelledPlaced.timestamp });
  });
  it('refuses an event for an order it never saw placed (a dead letter)', () => {
    spec.given([]).when(confirmed).thenThrows(/OrderConfirmed v2 for Order order-1, which the read model does not hold/);
  });
});

describe('customer orders projection', () => {
  const spec = projectionSpec(customerOrders);
  const summary = {
    orderId: 'order-1',
    customerId: 'ada',
    status: 'placed',
    totalCents: 6900,
    currency: 'EUR',
    lineCount: 2,
    placedAt: placed.timestamp,
  };
  it('OrderPlaced adds the order to the customer list, newest by placement time, trimmed', () => {
    spec.given([]).when(placed).then(summary, [
      { type: 'sortedSetAdd', key: customerOrdersKey('ada'), member: 'order-1', score: Date.parse(placed.timestamp), keepHighest: keptPerCustomer },
    ]);
  });
  it('later events only change the summary', () => {
    spec.given([placed]).when(confirmed).then({ ...summary, status: 'confirmed' });
    spec.given([placed, confirmed]).when(cancelledConfirmed).then({ ...summary, status: 'cancelled' });
  });
  it('refuses an event for an unknown order', () => {
    spec.given([]).when(shipped).thenThrows(/does not hold/);
  });
});

describe('top products projection', () => {
  const spec = projectionSpec(topProducts);
  it('OrderConfirmed counts its lines', () => {
    spec.given([placed]).when(confirmed).then({ status: 'confirmed', counted: lines }, [
      { type: 'sortedSetIncrement', key: unitsKey, member: 'mug', by: 2 },
      { type: 'sortedSetIncrement', key: unitsKey, member: 'lamp', by: 1 },
    ]);
  });
  it('cancelling a confirmed order takes its units back', () => {
    spec.given([placed, confirmed]).when(cancelledConfirmed).then({ status: 'cancelled', counted: [] }, [
      { type: 'sortedSetIncrement', key: unitsKey, member: 'mug', by: -2 },
      { type: 'sortedSetIncrement', key: unitsKey, member: 'lamp', by: -1 },
    ]);
  });
  it('cancelling an order never confirmed counts nothing', () => {
    spec.given([placed]).when(cancelledPlaced).then({ status: 'cancelled', counted: [] });
  });
  it('refuses a cancellation of a confirmed order it never counted', () => {
    spec.given([]).when(cancelledConfirmed).thenThrows(/does not hold/);
  });
});

describe('order search projection', () => {
  const spec = projectionSpec(orderSearch);
  it('indexes the order with its skus for filtering', () => {
    spec.given([]).when(placed).then({ ...details, skus: ['mug', 'lamp'] });
  });
  it('follows the status', () => {
    spec
      .given([placed, confirmed])
      .when(cancelledConfirmed)
      .then({ ...details, skus: ['mug', 'lamp'], status: 'cancelled', cancelReason: 'customer_request', updatedAt: cancelledConfirmed.timestamp });
  });
  it('refuses an event for an unknown order', () => {
    spec.given([]).when(shipped).thenThrows(/does not hold/);
  });
});
