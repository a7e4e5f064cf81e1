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
import { orderCommandSchemas, orderDecider } from './orders/order.js';
import { orderQueries } from './orders/queries.js';
import { productCatalogue } from './products/product-catalogue.js';
import { productStock } from './products/product-stock.js';
import { productCommandSchemas, productDecider } from './products/product.js';
import { productQueries } from './products/queries.js';
import { topProducts } from './products/top-products.js';

export const products = defineAggregate({ type: 'Product', decider: productDecider, commands: productCommandSchemas });
export const orders = defineAggregate({ type: 'Order', decider: orderDecider, commands: orderCommandSchemas });

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
