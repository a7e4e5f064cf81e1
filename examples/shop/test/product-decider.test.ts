/**
 * Every rule of docs/shop.md's Product table, given/when/then.
 */
import { describe, it } from 'node:test';
import { BusinessRuleError, NotFoundError } from 'strata';
import { deciderSpec } from 'strata/testing';
import { productDecider, type ProductCommand, type ProductEvent } from '../products/product.js';

const spec = deciderSpec(productDecider, { aggregateId: 'mug' });

const registerData = { name: 'Blue mug', description: 'Stoneware', priceCents: 1200, currency: 'EUR', tags: ['kitchen'] };
const registered: ProductEvent = { type: 'ProductRegistered', data: { name: 'Blue mug', description: 'Stoneware', price: { cents: 1200, currency: 'EUR' }, tags: ['kitchen'] } };
const restocked = (quantity: number, onHand: number): ProductEvent => ({ type: 'ProductRestocked', data: { quantity, onHand } });
const reserved = (orderId: string, quantity: number, available: number): ProductEvent => ({
  type: 'StockReserved',
  data: { orderId, quantity, availableAfter: available },
});
const reserve = (orderId: string, quantity: number): ProductCommand => ({ type: 'ReserveStock', data: { orderId, quantity } });
const release = (orderId: string): ProductCommand => ({ type: 'ReleaseStock', data: { orderId } });

describe('Product decider', () => {
  describe('RegisterProduct', () => {
    it('registers a new product', () => {
      spec.given([]).when({ type: 'RegisterProduct', data: registerData }).then([registered]);
    });
    it('rejects a product that exists', () => {
      spec.given([registered]).when({ type: 'RegisterProduct', data: registerData }).thenThrows(BusinessRuleError, /already registered/);
    });
  });

  describe('ChangeProductPrice', () => {
    it('changes the price, recording the previous one', () => {
      spec
        .given([registered])
        .when({ type: 'ChangeProductPrice', data: { priceCents: 900 } })
        .then([{ type: 'ProductPriceChanged', data: { priceCents: 900, previousPriceCents: 1200 } }]);
    });
    it('needs the product to exist', () => {
      spec.given([]).when({ type: 'ChangeProductPrice', data: { priceCents: 900 } }).thenThrows(NotFoundError, /mug does not exist/);
    });
  });

  describe('RestockProduct', () => {
    it('adds to the stock on hand', () => {
      spec.given([registered, restocked(5, 5)]).when({ type: 'RestockProduct', data: { quantity: 3 } }).then([restocked(3, 8)]);
    });
    it('needs the product to exist', () => {
      spec.given([]).when({ type: 'RestockProduct', data: { quantity: 3 } }).thenThrows(NotFoundError);
    });
  });

  describe('ReserveStock', () => {
    it('reserves when available ≥ quantity (exactly all of it)', () => {
      spec.given([registered, restocked(5, 5)]).when(reserve('o-1', 5)).then([reserved('o-1', 5, 0)]);
    });
    it('counts held reservations against what is available', () => {
      spec
        .given([registered, restocked(5, 5), reserved('o-1', 4, 1)])
        .when(reserve('o-2', 2))
        .then([{ type: 'StockReservationRejected', data: { orderId: 'o-2', quantity: 2, availableAfter: 1 } }]);
    });
    it('records a rejection when stock is short', () => {
      spec
        .given([registered])
        .when(reserve('o-1', 1))
        .then([{ type: 'StockReservationRejected', data: { orderId: 'o-1', quantity: 1, availableAfter: 0 } }]);
    });
    it('allows one reservation per order', () => {
      spec
        .given([registered, restocked(10, 10), reserved('o-1', 2, 8)])
        .when(reserve('o-1', 1))
        .thenThrows(BusinessRuleError, /o-1 already holds a reservation/);
    });
    it('gives stock back to the pool when a reservation is released', () => {
      spec
        .given([registered, restocked(3, 3), reserved('o-1', 3, 0), { type: 'StockReleased', data: { orderId: 'o-1', quantity: 3, availableAfter: 3 } }])
        .when(reserve('o-2', 3))
        .then([reserved('o-2', 3, 0)]);
    });
    it('needs the product to exist', () => {
      spec.given([]).when(reserve('o-1', 1)).thenThrows(NotFoundError);
    });
  });

  describe('ReleaseStock', () => {
    it('releases a held reservation', () => {
      spec
        .given([registered, restocked(5, 5), reserved('o-1', 2, 3)])
        .when(release('o-1'))
        .then([{ type: 'StockReleased', data: { orderId: 'o-1', quantity: 2, availableAfter: 5 } }]);
    });
    it('releases only a held reservation: never made', () => {
      spec.given([registered, restocked(5, 5)]).when(release('o-1')).thenThrows(BusinessRuleError, /holds no reservation/);
    });
    it('releases only a held reservation: already released', () => {
      spec
        .given([registered, restocked(5, 5), reserved('o-1', 2, 3), { type: 'StockReleased', data: { orderId: 'o-1', quantity: 2, availableAfter: 5 } }])
        .when(release('o-1'))
        .thenThrows(BusinessRuleError, /holds no reservation/);
    });
    it('releases only a held reservation: the reservation was rejected', () => {
      spec
        .given([registered, { type: 'StockReservationRejected', data: { orderId: 'o-1', quantity: 2, availableAfter: 0 } }])
        .when(release('o-1'))
        .thenThrows(BusinessRuleError);
    });
  });
});
