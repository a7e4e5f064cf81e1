/**
 * Orders: the Order aggregate (id = orderId), a small state machine:
 * placed → confirmed → shipped, and placed|confirmed → cancelled.
 *
 * OrderConfirmed carries the order's lines, so that read models counting sold
 * units need no state of their own.
 *
 * OrderPlaced is at version 2: it records the channel the order came through; orders
 * placed before (v1) are read with the channel `unknown` (orderEvents).
 */
import { BusinessRuleError, ForbiddenError, NotFoundError, Type, eventType, hasRole, type Command, type Decider, type DomainEvent, type EventData, type Static } from 'strata';
import { staff } from '../roles.js';
import { Currency, Empty, Identifier, PriceCents, Quantity } from '../schemas.js';

const OrderLine = Type.Object(
  { sku: Identifier, quantity: Quantity, unitPriceCents: PriceCents },
  { additionalProperties: false },
);
export type OrderLine = Static<typeof OrderLine>;

const Lines = Type.Array(OrderLine, { minItems: 1, maxItems: 100 });
const Channel = Type.Union([Type.Literal('web'), Type.Literal('mobile'), Type.Literal('api')], { description: 'where the order was placed; api when not said' });

export const orderCommandSchemas = {
  PlaceOrder: Type.Object(
    {
      customerId: Identifier,
      lines: Lines,
      currency: Currency,
      channel: Type.Optional(Channel),
    },
    { additionalProperties: false },
  ),
  ConfirmOrder: Empty,
  CancelOrder: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
  ShipOrder: Empty,
};

type Schemas = typeof orderCommandSchemas;
export type OrderCommand = {
  [K in keyof Schemas]: Command<K, Static<Schemas[K]>>;
}[keyof Schemas];

const OrderPlacedV1 = { customerId: Identifier, lines: Lines, currency: Currency, totalCents: Type.Integer({ minimum: 0 }) };

/** Each event type's schema at each version, and how an old version is read today. */
export const orderEvents = {
  OrderPlaced: eventType(Type.Object(OrderPlacedV1, { additionalProperties: false })).upcastTo(
    Type.Object({ ...OrderPlacedV1, channel: Type.Union([Channel, Type.Literal('unknown')]) }, { additionalProperties: false }),
    (v1) => ({ ...v1, channel: 'unknown' as const }),
  ),
  OrderConfirmed: eventType(Type.Object({ lines: Lines }, { additionalProperties: false })),
  OrderCancelled: eventType(
    Type.Object({ reason: Type.String({ minLength: 1, maxLength: 200 }), previousStatus: Type.Union([Type.Literal('placed'), Type.Literal('confirmed')]) }, { additionalProperties: false }),
  ),
  OrderShipped: eventType(Empty),
};

type OrderEvents = typeof orderEvents;
export type OrderEvent = { [T in keyof OrderEvents]: DomainEvent<T, EventData<OrderEvents[T]>> }[keyof OrderEvents];

export type OrderStatus = 'placed' | 'confirmed' | 'cancelled' | 'shipped';

export type OrderState =
  | { status: 'none' }
  | { status: OrderStatus; customerId: string; lines: OrderLine[]; currency: string; totalCents: number };

type Existing = Exclude<OrderState, { status: 'none' }>;

function existing(state: OrderState, orderId: string): Existing {
  if (state.status === 'none') throw new NotFoundError(`order ${orderId} does not exist`);
  return state;
}

function refuse(order: Existing, orderId: string, action: string): never {
  throw new BusinessRuleError(`order ${orderId} is ${order.status} and cannot be ${action}`, `order-${order.status}`);
}

export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = {
  initialState: () => ({ status: 'none' }),

  decide(command, state, { aggregateId: orderId, principal }) {
    switch (command.type) {
      case 'PlaceOrder': {
        if (state.status !== 'none') throw new BusinessRuleError(`order ${orderId} already exists`, 'order-exists');
        const skus = command.data.lines.map((line) => line.sku);
        const duplicate = skus.find((sku, index) => skus.indexOf(sku) !== index);
        if (duplicate !== undefined) {
          throw new BusinessRuleError(`sku ${duplicate} appears on more than one line`, 'one-line-per-sku');
        }
        const totalCents = command.data.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
        if (!Number.isSafeInteger(totalCents)) {
          throw new BusinessRuleError('the order total is too large to represent exactly', 'total-too-large');
        }
        const { customerId, lines, currency, channel = 'api' } = command.data;
        return [{ type: 'OrderPlaced', data: { customerId, lines, currency, totalCents, channel } }];
      }

      case 'ConfirmOrder': {
        const order = existing(state, orderId);
        if (order.status !== 'placed') refuse(order, orderId, 'confirmed');
        return [{ type: 'OrderConfirmed', data: { lines: order.lines } }];
      }

      case 'CancelOrder': {
        const order = existing(state, orderId);
        if (order.customerId !== principal.subject && !hasRole(principal, staff)) throw new ForbiddenError(`only the customer of order ${orderId} or staff may cancel it`);
        if (order.status !== 'placed' && order.status !== 'confirmed') refuse(order, orderId, 'cancelled');
        return [{ type: 'OrderCancelled', data: { reason: command.data.reason, previousStatus: order.status } }];
      }

      case 'ShipOrder': {
        const order = existing(state, orderId);
        if (order.status !== 'confirmed') refuse(order, orderId, 'shipped');
        return [{ type: 'OrderShipped', data: {} }];
      }
    }
  },

  evolve(state, event) {
    if (event.type === 'OrderPlaced') {
      const { customerId, lines, currency, totalCents } = event.data;
      return { status: 'placed', customerId, lines, currency, totalCents };
    }
    if (state.status === 'none') return state;
    switch (event.type) {
      case 'OrderConfirmed':
        return { ...state, status: 'confirmed' };
      case 'OrderCancelled':
        return { ...state, status: 'cancelled' };
      case 'OrderShipped':
        return { ...state, status: 'shipped' };
    }
  },
};
