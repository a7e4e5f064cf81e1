/**
 * Every rule of docs/shop.md's Order table, given/when/then.
 */
import { describe, it } from 'node:test';
import { BusinessRuleError, ForbiddenError, NotFoundError } from 'strata';
import { deciderSpec } from 'strata/testing';
import { orderDecider, type OrderCommand, type OrderEvent } from '../orders/order.js';

const spec = deciderSpec(orderDecider, { aggregateId: 'o-1', principal: { subject: 'c-1', tenant: 'default', roles: ['customer'], scopes: [] } });
const as = (subject: string, roles: string[]) => deciderSpec(orderDecider, { aggregateId: 'o-1', principal: { subject, tenant: 'default', roles, scopes: [] } });

const lines = [
  { sku: 'mug', quantity: 2, unitPriceCents: 1200 },
  { sku: 'kettle', quantity: 1, unitPriceCents: 4500 },
];
const placeData = { customerId: 'c-1', lines, currency: 'EUR' };
const place: OrderCommand = { type: 'PlaceOrder', data: placeData };
const placed: OrderEvent = { type: 'OrderPlaced', data: { ...placeData, totalCents: 6900, channel: 'api' } };
const confirmed: OrderEvent = { type: 'OrderConfirmed', data: { lines } };
const cancelled: OrderEvent = { type: 'OrderCancelled', data: { reason: 'out_of_stock', previousStatus: 'placed' } };
const shipped: OrderEvent = { type: 'OrderShipped', data: {} };
const confirm: OrderCommand = { type: 'ConfirmOrder', data: {} };
const cancel: OrderCommand = { type: 'CancelOrder', data: { reason: 'customer asked' } };
const ship: OrderCommand = { type: 'ShipOrder', data: {} };

describe('Order decider', () => {
  describe('PlaceOrder', () => {
    it('places a new order with its total', () => {
      spec.given([]).when(place).then([placed]);
    });
    it('records the channel the order came through (api when not said)', () => {
      spec
        .given([])
        .when({ type: 'PlaceOrder', data: { ...placeData, channel: 'mobile' } })
        .then([{ type: 'OrderPlaced', data: { ...placeData, totalCents: 6900, channel: 'mobile' } }]);
    });
    it('places only a new order', () => {
      spec.given([placed]).when(place).thenThrows(BusinessRuleError, /already exists/);
    });
    it('refuses two lines for the same sku', () => {
      const twice = { ...placeData, lines: [lines[0], { ...lines[0], quantity: 1 }] } as typeof placeData;
      spec.given([]).when({ type: 'PlaceOrder', data: twice }).thenThrows(BusinessRuleError, /mug appears on more than one line/);
    });
    it('refuses a total that cannot be represented exactly', () => {
      const huge = Array.from({ length: 100 }, (_, i) => ({ sku: `sku-${i}`, quantity: 1_000_000, unitPriceCents: 100_000_000 }));
      spec.given([]).when({ type: 'PlaceOrder', data: { ...placeData, lines: huge } }).thenThrows(BusinessRuleError, /too large/);
    });
  });

  describe('ConfirmOrder', () => {
    it('confirms a placed order, carrying its lines', () => {
      spec.given([placed]).when(confirm).then([confirmed]);
    });
    for (const [status, history] of [['confirmed', [placed, confirmed]], ['cancelled', [placed, cancelled]], ['shipped', [placed, confirmed, shipped]]] as const) {
      it(`confirms only from placed, not from ${status}`, () => {
        spec.given(history).when(confirm).thenThrows(BusinessRuleError, new RegExp(`is ${status}`));
      });
    }
    it('needs the order to exist', () => {
      spec.given([]).when(confirm).thenThrows(NotFoundError, /o-1 does not exist/);
    });
  });

  describe('CancelOrder', () => {
    it('cancels a placed order', () => {
      spec.given([placed]).when(cancel).then([{ type: 'OrderCancelled', data: { reason: 'customer asked', previousStatus: 'placed' } }]);
    });
    it('cancels a confirmed order', () => {
      spec.given([placed, confirmed]).when(cancel).then([{ type: 'OrderCancelled', data: { reason: 'customer asked', previousStatus: 'confirmed' } }]);
    });
    it('cannot cancel a shipped order', () => {
      spec.given([placed, confirmed, shipped]).when(cancel).thenThrows(BusinessRuleError, /is shipped/);
    });
    it('cannot cancel twice', () => {
      spec.given([placed, cancelled]).when(cancel).thenThrows(BusinessRuleError, /is cancelled/);
    });
    it('needs the order to exist', () => {
      spec.given([]).when(cancel).thenThrows(NotFoundError);
    });
    it("refuses another customer's cancellation", () => {
      as('c-2', ['customer']).given([placed]).when(cancel).thenThrows(ForbiddenError, /only the customer of order o-1 or staff/);
    });
    it('lets staff cancel any order', () => {
      for (const role of ['clerk', 'admin']) as('someone', [role]).given([placed]).when(cancel).then([{ type: 'OrderCancelled', data: { reason: 'customer asked', previousStatus: 'placed' } }]);
    });
  });

  describe('ShipOrder', () => {
    it('ships a confirmed order', () => {
      spec.given([placed, confirmed]).when(ship).then([shipped]);
    });
    it('cannot ship a cancelled order', () => {
      spec.given([placed, confirmed, { ...cancelled, data: { reason: 'x', previousStatus: 'confirmed' } }]).when(ship).thenThrows(BusinessRuleError, /is cancelled and cannot be shipped/);
    });
    it('cannot ship an order that is only placed', () => {
      spec.given([placed]).when(ship).thenThrows(BusinessRuleError, /is placed/);
    });
    it('cannot ship twice', () => {
      spec.given([placed, confirmed, shipped]).when(ship).thenThrows(BusinessRuleError, /is shipped/);
    });
    it('needs the order to exist', () => {
      spec.given([]).when(ship).thenThrows(NotFoundError);
    });
  });
});
