/**
 * The read API's parameters and answers as JSON Schema (TypeBox), one definition
 * each: fastify validates HTTP requests and documents them in OpenAPI with these,
 * the gRPC QueryService validates its requests with the same ones, and the
 * TypeScript types come from them too.
 */
import { Type, type Static } from '@sinclair/typebox';
import { identifierPattern } from '../shared/identifiers.js';
import type { OrderStatus } from '../write-side/shop/order.js';
import { Tag } from '../write-side/shop/schemas.js';

const Id = (description: string) => Type.String({ pattern: identifierPattern, description });
export const orderStatuses = ['placed', 'confirmed', 'shipped', 'cancelled'] as const;
// An enum rather than a union of literals: a wrong value is then reported with the allowed ones.
const Status = Type.Unsafe<OrderStatus>({ type: 'string', enum: [...orderStatuses] });
const Cents = Type.Integer({ minimum: 0, maximum: 100_000_000 });
const Limit = (fallback: number) => Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: fallback }));
const Size = Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'hits per page, at most 100' }));
const Cursor = Type.Optional(
  Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', description: 'nextCursor of the previous page' }),
);
const FreeText = Type.Optional(
  Type.String({ minLength: 1, maxLength: 200, description: 'free text, matched literally word by word (never query syntax)' }),
);
const closed = { additionalProperties: false } as const;

export const orderIdParams = Type.Object({ orderId: Id('the order id') }, closed);
export const customerIdParams = Type.Object({ customerId: Id('the customer id') }, closed);
export const skuParams = Type.Object({ sku: Id('the product sku') }, closed);
export const customerOrdersQuery = Type.Object({ limit: Limit(20) }, closed);
export const topProductsQuery = Type.Object({ limit: Limit(10) }, closed);

export const orderSearchQuery = Type.Object(
  {
    customerId: Type.Optional(Id('only this customer’s orders')),
    status: Type.Optional(Status),
    sku: Type.Optional(Id('only orders with a line of this sku')),
    placedFrom: Type.Optional(Type.String({ format: 'date-time', description: 'placed at or after (inclusive)' })),
    placedTo: Type.Optional(Type.String({ format: 'date-time', description: 'placed at or before (inclusive)' })),
    q: FreeText,
    size: Size,
    cursor: Cursor,
  },
  closed,
);
export type OrderSearchQuery = Static<typeof orderSearchQuery>;

export const productSearchQuery = Type.Object(
  {
    q: FreeText,
    tag: Type.Optional(Tag),
    minPriceCents: Type.Optional(Cents),
    maxPriceCents: Type.Optional(Cents),
    size: Size,
    cursor: Cursor,
  },
  closed,
);
export type ProductSearchQuery = Static<typeof productSearchQuery>;

const Version = Type.Integer({ description: 'the version of the aggregate this answer reflects' });
const Timestamp = Type.String({ format: 'date-time' });
const OrderLine = Type.Object({ sku: Type.String(), quantity: Type.Integer(), unitPriceCents: Type.Integer() });

export const order = Type.Object({
  orderId: Type.String(),
  customerId: Type.String(),
  status: Status,
  lines: Type.Array(OrderLine),
  currency: Type.String(),
  totalCents: Type.Integer(),
  placedAt: Timestamp,
  updatedAt: Timestamp,
  cancelReason: Type.Union([Type.String(), Type.Null()]),
  version: Version,
});
export type Order = Static<typeof order>;

export const orderSummary = Type.Object({
  orderId: Type.String(),
  customerId: Type.String(),
  status: Status,
  totalCents: Type.Integer(),
  currency: Type.String(),
  lineCount: Type.Integer(),
  placedAt: Timestamp,
  version: Version,
});

export const customerOrders = Type.Object({ customerId: Type.String(), orders: Type.Array(orderSummary) });
export type CustomerOrders = Static<typeof customerOrders>;

/** What a product and a catalogue entry both show. */
const productFields = {
  sku: Type.String(),
  name: Type.String(),
  description: Type.String(),
  tags: Type.Array(Type.String()),
  priceCents: Type.Integer(),
  currency: Type.String(),
};

export const product = Type.Object({
  ...productFields,
  onHand: Type.Integer(),
  reserved: Type.Integer(),
  available: Type.Integer(),
  updatedAt: Timestamp,
  version: Version,
});
export type Product = Static<typeof product>;

export const topProducts = Type.Object({
  products: Type.Array(Type.Object({ sku: Type.String(), units: Type.Integer({ description: 'confirmed units, net of cancellations' }) })),
});
export type TopProducts = Static<typeof topProducts>;

const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'pass as cursor for the next page; null on the last page' });

export const orderSearchResult = Type.Object({
  orders: Type.Array(order),
  total: Type.Integer({ description: 'orders matching every filter' }),
  statusCounts: Type.Object(
    { placed: Type.Integer(), confirmed: Type.Integer(), shipped: Type.Integer(), cancelled: Type.Integer() },
    { description: 'orders matching every filter but status, by status' },
  ),
  nextCursor: NextCursor,
});
export type OrderSearchResult = Static<typeof orderSearchResult>;

export const catalogueEntry = Type.Object({
  ...productFields,
  registeredAt: Timestamp,
  updatedAt: Timestamp,
  version: Version,
});

export const productSearchResult = Type.Object({
  products: Type.Array(catalogueEntry),
  total: Type.Integer({ description: 'products matching every filter' }),
  tagCounts: Type.Array(Type.Object({ tag: Type.String(), count: Type.Integer() }), {
    description: 'products matching every filter but tag, by tag: the 20 most frequent',
  }),
  nextCursor: NextCursor,
});
export type ProductSearchResult = Static<typeof productSearchResult>;
