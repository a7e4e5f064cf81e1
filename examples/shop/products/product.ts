/**
 * Inventory: the Product aggregate (id = sku).
 *
 * Stock is counted as `onHand` (everything restocked) and held reservations;
 * available = onHand − reserved. An order holds at most one reservation of a
 * product: a second ReserveStock for an order already holding one is refused, so
 * stock can never be held twice for one order line.
 *
 * ProductRegistered is at version 2: v1 carried `priceCents` and `currency` side by
 * side, v2 a `price` object. The reservation events are at version 2 too: v1 called
 * the stock left once the event applied `available`, which readers took for the stock
 * before it; v2 names it `availableAfter`. Events written as v1 are read as v2
 * (productEvents).
 */
import { BusinessRuleError, NotFoundError, Type, eventType, type Command, type Decider, type DomainEvent, type EventData, type Static, type TProperties } from 'strata';
import { Currency, Identifier, PriceCents, Quantity, Tag } from '../schemas.js';

export const productCommandSchemas = {
  RegisterProduct: Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200 }),
      description: Type.String({ maxLength: 5000 }),
      priceCents: PriceCents,
      currency: Currency,
      tags: Type.Array(Tag, { maxItems: 20, uniqueItems: true }),
    },
    { additionalProperties: false },
  ),
  ChangeProductPrice: Type.Object({ priceCents: PriceCents }, { additionalProperties: false }),
  RestockProduct: Type.Object({ quantity: Quantity }, { additionalProperties: false }),
  ReserveStock: Type.Object({ orderId: Identifier, quantity: Quantity }, { additionalProperties: false }),
  ReleaseStock: Type.Object({ orderId: Identifier }, { additionalProperties: false }),
};

type Schemas = typeof productCommandSchemas;
export type ProductCommand = {
  [K in keyof Schemas]: Command<K, Static<Schemas[K]>>;
}[keyof Schemas];

const closed = <Properties extends TProperties>(properties: Properties) => Type.Object(properties, { additionalProperties: false });
const reservation = { orderId: Identifier, quantity: Quantity };
/** The three reservation events share their data's shape, and so its history. */
const reservationEvent = eventType(closed({ ...reservation, available: Type.Integer({ minimum: 0 }) })).upcastTo(
  closed({ ...reservation, availableAfter: Type.Integer({ minimum: 0 }) }),
  ({ available, ...rest }) => ({ ...rest, availableAfter: available }),
);

/** Each event type's schema at each version, and how an old version is read today. */
export const productEvents = {
  ProductRegistered: eventType(productCommandSchemas.RegisterProduct).upcastTo(
    closed({
      name: Type.String({ minLength: 1, maxLength: 200 }),
      description: Type.String({ maxLength: 5000 }),
      price: closed({ cents: PriceCents, currency: Currency }),
      tags: Type.Array(Tag, { maxItems: 20, uniqueItems: true }),
    }),
    ({ priceCents, currency, ...rest }) => ({ ...rest, price: { cents: priceCents, currency } }),
  ),
  ProductPriceChanged: eventType(closed({ priceCents: PriceCents, previousPriceCents: PriceCents })),
  ProductRestocked: eventType(closed({ quantity: Quantity, onHand: Type.Integer({ minimum: 0 }) })),
  StockReserved: reservationEvent,
  StockReservationRejected: reservationEvent,
  StockReleased: reservationEvent,
};

type ProductEvents = typeof productEvents;
export type ProductEvent = { [T in keyof ProductEvents]: DomainEvent<T, EventData<ProductEvents[T]>> }[keyof ProductEvents];

export type ProductState =
  | { status: 'unregistered' }
  | {
      status: 'registered';
      priceCents: number;
      onHand: number;
      /** Held reservations by order id. */
      held: Record<string, number>;
    };

type Registered = Extract<ProductState, { status: 'registered' }>;

const reserved = (state: Registered) => Object.values(state.held).reduce((sum, quantity) => sum + quantity, 0);
const available = (state: Registered) => state.onHand - reserved(state);

function registered(state: ProductState, sku: string): Registered {
  if (state.status !== 'registered') throw new NotFoundError(`product ${sku} does not exist`);
  return state;
}

export const productDecider: Decider<ProductState, ProductCommand, ProductEvent> = {
  initialState: () => ({ status: 'unregistered' }),

  decide(command, state, { aggregateId: sku }) {
    switch (command.type) {
      case 'RegisterProduct': {
        if (state.status === 'registered') {
          throw new BusinessRuleError(`product ${sku} is already registered`, 'product-exists');
        }
        const { priceCents, currency, ...rest } = command.data;
        return [{ type: 'ProductRegistered', data: { ...rest, price: { cents: priceCents, currency } } }];
      }

      case 'ChangeProductPrice': {
        const product = registered(state, sku);
        return [
          {
            type: 'ProductPriceChanged',
            data: { priceCents: command.data.priceCents, previousPriceCents: product.priceCents },
          },
        ];
      }

      case 'RestockProduct': {
        const product = registered(state, sku);
        const onHand = product.onHand + command.data.quantity;
        if (onHand > Number.MAX_SAFE_INTEGER) throw new BusinessRuleError('stock would overflow', 'stock-overflow');
        return [{ type: 'ProductRestocked', data: { quantity: command.data.quantity, onHand } }];
      }

      case 'ReserveStock': {
        const product = registered(state, sku);
        const { orderId, quantity } = command.data;
        if (product.held[orderId] !== undefined) {
          throw new BusinessRuleError(
            `order ${orderId} already holds a reservation of ${sku}`,
            'one-reservation-per-order',
          );
        }
        const free = available(product);
        return free >= quantity
          ? [{ type: 'StockReserved', data: { orderId, quantity, availableAfter: free - quantity } }]
          : [{ type: 'StockReservationRejected', data: { orderId, quantity, availableAfter: free } }];
      }

      case 'ReleaseStock': {
        const product = registered(state, sku);
        const { orderId } = command.data;
        const quantity = product.held[orderId];
        if (quantity === undefined) {
          throw new BusinessRuleError(`order ${orderId} holds no reservation of ${sku}`, 'no-held-reservation');
        }
        return [{ type: 'StockReleased', data: { orderId, quantity, availableAfter: available(product) + quantity } }];
      }
    }
  },

  evolve(state, event) {
    if (event.type === 'ProductRegistered') {
      return { status: 'registered', priceCents: event.data.price.cents, onHand: 0, held: {} };
    }
    if (state.status !== 'registered') return state;
    switch (event.type) {
      case 'ProductPriceChanged':
        return { ...state, priceCents: event.data.priceCents };
      case 'ProductRestocked':
        return { ...state, onHand: event.data.onHand };
      case 'StockReserved':
        return { ...state, held: { ...state.held, [event.data.orderId]: event.data.quantity } };
      case 'StockReservationRejected':
        return state;
      case 'StockReleased': {
        const { [event.data.orderId]: _released, ...held } = state.held;
        return { ...state, held };
      }
    }
  },
};
