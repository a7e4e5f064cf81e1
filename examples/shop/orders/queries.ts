/**
 * The orders' read API: an order (Redis), a customer's latest orders (Redis list)
 * and the order search with counts by status (Elasticsearch).
 */
import { NotFoundError, Type, defineQuery, type SearchSpec, type Static } from 'strata';
import { Cursor, FreeText, Id, Limit, NextCursor, PageSize, Timestamp, Version, closed } from '../schemas.js';
import { customerOrders, customerOrdersKey, type OrderSummary } from './customer-orders.js';
import { orderDetails, type OrderDetails } from './order-details.js';
import { orderSearch, type OrderSearchDocument } from './order-search.js';
import type { OrderStatus } from './order.js';

export const orderStatuses = ['placed', 'confirmed', 'shipped', 'cancelled'] as const;
// An enum rather than a union of literals: a wrong value is then reported with the allowed ones.
const Status = Type.Unsafe<OrderStatus>({ type: 'string', enum: [...orderStatuses] });
const OrderLine = Type.Object({ sku: Type.String(), quantity: Type.Integer(), unitPriceCents: Type.Integer() });

const order = Type.Object({
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

export const getOrder = defineQuery({
  name: 'getOrder',
  access: { roles: ['clerk', 'admin'] },
  route: '/orders/:orderId',
  summary: 'An order: status, lines, totals',
  tags: ['orders'],
  params: Type.Object({ orderId: Id('the order id') }, closed),
  answer: order,
  reads: [orderDetails],
  async run({ orderId }, read) {
    const found = await read.document<OrderDetails>(orderDetails, orderId);
    if (found === undefined) throw new NotFoundError(`no order ${orderId}`);
    return found;
  },
});

export const getCustomerOrders = defineQuery({
  name: 'getCustomerOrders',
  // A customer sees her own orders; staff anyone's.
  access: { roles: ['customer', 'clerk', 'admin'], when: (principal, { customerId }) => principal.roles.includes('clerk') || principal.roles.includes('admin') || customerId === principal.subject },
  route: '/customers/:customerId/orders',
  summary: "A customer's latest orders, newest first",
  tags: ['orders'],
  params: Type.Object({ customerId: Id('the customer id'), limit: Limit(20) }, closed),
  answer: Type.Object({
    customerId: Type.String(),
    orders: Type.Array(
      Type.Object({
        orderId: Type.String(),
        customerId: Type.String(),
        status: Status,
        totalCents: Type.Integer(),
        currency: Type.String(),
        lineCount: Type.Integer(),
        placedAt: Timestamp,
        version: Version,
      }),
    ),
  }),
  reads: [customerOrders],
  async run({ customerId, limit }, read) {
    return { customerId, orders: await read.list<OrderSummary>(customerOrders, customerOrdersKey(customerId), limit ?? 20) };
  },
});

const orderSearchParams = Type.Object(
  {
    customerId: Type.Optional(Id('only this customer’s orders')),
    status: Type.Optional(Status),
    sku: Type.Optional(Id('only orders with a line of this sku')),
    placedFrom: Type.Optional(Type.String({ format: 'date-time', description: 'placed at or after (inclusive)' })),
    placedTo: Type.Optional(Type.String({ format: 'date-time', description: 'placed at or before (inclusive)' })),
    q: FreeText,
    size: PageSize,
    cursor: Cursor,
  },
  closed,
);

export type OrderSearchParams = Static<typeof orderSearchParams>;

/** Filters by customer, sku and placement time; the status filter after the status facet; newest first. */
export function orderSearchSpec(params: OrderSearchParams): SearchSpec {
  const { customerId, sku, placedFrom, placedTo, status, q } = params;
  return {
    filters: [
      ...(customerId === undefined ? [] : [{ term: { customerId } }]),
      ...(sku === undefined ? [] : [{ term: { skus: sku } }]),
      ...(placedFrom === undefined && placedTo === undefined ? [] : [{ range: { placedAt: { gte: placedFrom, lte: placedTo } } }]),
    ],
    text: q === undefined ? undefined : { query: q },
    postFilter: status === undefined ? undefined : { term: { status } },
    facets: { statusCounts: { field: 'status', size: orderStatuses.length } },
    sort: [{ placedAt: 'desc' }, { orderId: 'asc' }],
    size: params.size ?? 20,
    cursor: params.cursor,
  };
}

export const searchOrders = defineQuery({
  name: 'searchOrders',
  access: { roles: ['clerk', 'admin'] },
  route: '/orders',
  summary: 'Order search with counts by status',
  tags: ['orders'],
  params: orderSearchParams,
  answer: Type.Object({
    orders: Type.Array(order),
    total: Type.Integer({ description: 'orders matching every filter' }),
    statusCounts: Type.Object(
      { placed: Type.Integer(), confirmed: Type.Integer(), shipped: Type.Integer(), cancelled: Type.Integer() },
      { description: 'orders matching every filter but status, by status' },
    ),
    nextCursor: NextCursor,
  }),
  reads: [orderSearch],
  async run(params, read) {
    const page = await read.search<OrderSearchDocument>(orderSearch, orderSearchSpec(params));
    const statusCounts = { placed: 0, confirmed: 0, shipped: 0, cancelled: 0 };
    for (const { key, count } of page.facets.statusCounts ?? []) {
      if (key in statusCounts) statusCounts[key as OrderStatus] = count;
    }
    return {
      orders: page.hits.map(({ skus: _skus, ...details }) => details),
      total: page.total,
      statusCounts,
      nextCursor: page.nextCursor,
    };
  },
});

export const orderQueries = [getOrder, getCustomerOrders, searchOrders];
