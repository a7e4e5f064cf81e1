/**
 * The shop: Strata's worked example, a small shop with inventory and orders
 * (docs/shop.md). Three vertical slices, each with its aggregate, read models and
 * queries, or its saga; this module puts them together as one app.
 */
import { appSetting, defineAggregate, defineApp } from 'strata';
import { fulfilmentSaga } from './fulfilment/fulfilment-saga.js';
import { customerOrders } from './orders/customer-orders.js';
import { orderDetails } from './orders/order-details.js';
import { orderSearch } from './orders/order-search.js';
import { orderCommandSchemas, orderDecider, orderEvents } from './orders/order.js';
import { orderQueries } from './orders/queries.js';
import { productCatalogue } from './products/product-catalogue.js';
import { productStock } from './products/product-stock.js';
import { productCommandSchemas, productDecider, productEvents } from './products/product.js';
import { everyone, staff } from './roles.js';
import { productQueries } from './products/queries.js';
import { topProducts } from './products/top-products.js';


export const products = defineAggregate({
  type: 'Product',
  decider: productDecider,
  commands: productCommandSchemas,
  events: productEvents,
  access: {
    RegisterProduct: { roles: staff },
    ChangeProductPrice: { roles: staff },
    RestockProduct: { roles: staff },
    ReserveStock: { roles: ['admin'] },
    ReleaseStock: { roles: ['admin'] },
  },
});

export const orders = defineAggregate({
  type: 'Order',
  decider: orderDecider,
  commands: orderCommandSchemas,
  events: orderEvents,
  access: {
    // A customer places orders for herself only; staff for anyone.
    PlaceOrder: { roles: everyone, when: (principal, { data }) => principal.roles.some((role) => staff.includes(role)) || data.customerId === principal.subject },
    ConfirmOrder: { roles: ['admin'] },
    // Which order is hers needs the order: the decider checks it.
    CancelOrder: { roles: everyone },
    ShipOrder: { roles: staff },
  },
});

/** The read models, in the order the projector starts them. */
export const shopProjections = [orderDetails, customerOrders, productStock, topProducts, orderSearch, productCatalogue];

export default defineApp({
  name: 'shop',
  aggregates: [products, orders],
  projections: shopProjections,
  queries: [...orderQueries, ...productQueries],
  settings: {
    settleMs: appSetting.integer(
      'SHOP_SETTLE_MS',
      'How long the fulfilment saga waits for all reservations of an order before releasing them and cancelling it (reason timeout)',
      30_000,
      { min: 1, max: 7 * 24 * 3600_000 },
    ),
  },
  sagas: ({ settleMs }) => [fulfilmentSaga(settleMs)],
});
