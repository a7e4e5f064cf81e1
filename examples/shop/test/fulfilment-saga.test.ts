/**
 * The fulfilment saga, given/when/then: every path (all reserved, one rejected, the
 * deadline) and the late answers, plus what the runtime relies on: instances by
 * order, and command ids derived from the triggering input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineOf, on, runSaga, sagaSpec, testEvent } from 'strata/testing';
import { fulfilmentSaga, settleDeadline } from '../fulfilment/fulfilment-saga.js';
import { orderEvents } from '../orders/order.js';
import { productEvents } from '../products/product.js';

const saga = fulfilmentSaga(30_000);
// The saga reads events as the runtime hands them over: upcast (`placed` below is an OrderPlaced v1).
const spec = sagaSpec(saga, { events: { Order: orderEvents, Product: productEvents } });
const lines = [
  { sku: 'mug', quantity: 2, unitPriceCents: 1200 },
  { sku: 'tea', quantity: 1, unitPriceCents: 800 },
];
const placed = testEvent('Order', 'o-1', 1, 'OrderPlaced', { customerId: 'ada', lines, currency: 'EUR', totalCents: 3200 }, '2026-01-01T00:00:00.000Z');
const reserved = (sku: string, version = 2) => testEvent('Product', sku, version, 'StockReserved', { orderId: 'o-1', quantity: 1, availableAfter: 5 });
const rejected = (sku: string, version = 2) => testEvent('Product', sku, version, 'StockReservationRejected', { orderId: 'o-1', quantity: 1, availableAfter: 0 });
const orderEvent = (version: number, type: string, data: unknown = {}) => testEvent('Order', 'o-1', version, type, data);
const command = (commandType: string, aggregateId: string, data: unknown = {}) => ({ commandType, aggregateId, data });
const settleAt = '2026-01-01T00:00:30.000Z';

describe('fulfilment saga', () => {
  it('reserves every line of a placed order and sets the deadline to settle by', () => {
    spec.given([]).when(on(placed)).then({
      state: { phase: 'reserving', pending: ['mug', 'tea'], held: [] },
      commands: [command('ReserveStock', 'mug', { orderId: 'o-1', quantity: 2 }), command('ReserveStock', 'tea', { orderId: 'o-1', quantity: 1 })],
      setDeadlines: [{ name: settleDeadline, at: settleAt }],
    });
  });

  it('waits while some lines are unanswered', () => {
    spec.given([on(placed)]).when(on(reserved('mug'))).then({ state: { phase: 'reserving', pending: ['tea'], held: ['mug'] }, commands: [] });
  });

  it('confirms the order once every line is reserved, and clears the deadline', () => {
    spec.given([on(placed), on(reserved('mug'))]).when(on(reserved('tea'))).then({
      state: { phase: 'confirming', held: ['mug', 'tea'] },
      commands: [command('ConfirmOrder', 'o-1')],
      clearDeadlines: [settleDeadline],
    });
  });

  it('on a rejection releases what is reserved and cancels the order, out of stock', () => {
    spec.given([on(placed), on(reserved('mug'))]).when(on(rejected('tea'))).then({
      state: { phase: 'cancelling', reason: 'out_of_stock', held: [] },
      commands: [command('ReleaseStock', 'mug', { orderId: 'o-1' }), command('CancelOrder', 'o-1', { reason: 'out_of_stock' })],
      clearDeadlines: [settleDeadline],
    });
  });

  it('at the deadline releases what is reserved and cancels the order, timeout', () => {
    spec.given([on(placed), on(reserved('tea'))]).when(deadlineOf(settleDeadline, settleAt)).then({
      state: { phase: 'cancelling', reason: 'timeout', held: [] },
      commands: [command('ReleaseStock', 'tea', { orderId: 'o-1' }), command('CancelOrder', 'o-1', { reason: 'timeout' })],
    });
  });

  it('ignores the deadline once the order is settled', () => {
    spec.given([on(placed), on(reserved('mug')), on(reserved('tea'))]).when(deadlineOf(settleDeadline, settleAt)).then({ state: { phase: 'confirming' }, commands: [] });
    spec.given([on(placed), on(rejected('mug'))]).when(deadlineOf(settleDeadline, settleAt)).then({ commands: [] });
  });

  it('releases at once a reservation granted after it gave up', () => {
    spec.given([on(placed), on(rejected('mug'))]).when(on(reserved('tea'))).then({
      state: { phase: 'cancelling', pending: [], held: [] },
      commands: [command('ReleaseStock', 'tea', { orderId: 'o-1' })],
    });
    spec.given([on(placed), deadlineOf(settleDeadline, settleAt)]).when(on(reserved('mug'))).then({ commands: [command('ReleaseStock', 'mug', { orderId: 'o-1' })] });
  });

  it('does nothing twice: a redelivered answer or order event changes nothing', () => {
    spec.given([on(placed), on(reserved('mug'))]).when(on(reserved('mug'))).then({ state: { pending: ['tea'], held: ['mug'] }, commands: [] });
    spec.given([on(placed)]).when(on(placed)).then({ state: { phase: 'reserving' }, commands: [], setDeadlines: [] });
    spec.given([on(placed), on(rejected('mug'))]).when(on(rejected('tea'))).then({ commands: [] });
  });

  it('follows the order to its end, and releases what a cancelled order still holds', () => {
    const confirmed = [on(placed), on(reserved('mug')), on(reserved('tea')), on(orderEvent(2, 'OrderConfirmed', { lines }))];
    spec.given(confirmed).when(on(orderEvent(3, 'OrderShipped'))).then({ state: { phase: 'shipped' }, commands: [] });
    spec.given(confirmed).when(on(orderEvent(3, 'OrderCancelled', { reason: 'customer_request', previousStatus: 'confirmed' }))).then({
      state: { phase: 'cancelled', held: [] },
      commands: [command('ReleaseStock', 'mug', { orderId: 'o-1' }), command('ReleaseStock', 'tea', { orderId: 'o-1' })],
    });
    // Its own cancellation coming back: what it held was released when it gave up.
    spec.given([on(placed), on(reserved('mug')), on(rejected('tea'))]).when(on(orderEvent(2, 'OrderCancelled', { reason: 'out_of_stock', previousStatus: 'placed' }))).then({
      state: { phase: 'cancelled' },
      commands: [],
    });
  });

  it('gives every event to the instance of its order, and ignores the rest', () => {
    assert.equal(saga.instanceOf(placed), 'o-1');
    assert.equal(saga.instanceOf(reserved('mug')), 'o-1');
    assert.equal(saga.instanceOf(testEvent('Product', 'mug', 1, 'ProductRestocked', { quantity: 1, onHand: 1 })), undefined);
    assert.equal(saga.instanceOf(testEvent('Product', 'mug', 3, 'StockReleased', { orderId: 'o-1', quantity: 1, availableAfter: 1 })), undefined);
  });

  it('folds a whole history to the state that one input at a time reaches', () => {
    assert.deepStrictEqual(runSaga(saga, [on(placed), on(reserved('mug')), on(reserved('tea'))]).state.phase, 'confirming');
  });
});
