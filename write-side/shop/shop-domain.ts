/**
 * The reference domain of docs/shop.md: a small shop with inventory and orders.
 */
import { defineAggregate, defineDomain } from '../decider/domain.js';
import { orderCommandSchemas, orderDecider } from './order.js';
import { productCommandSchemas, productDecider } from './product.js';

export const shopDomain = defineDomain([
  defineAggregate({ type: 'Product', decider: productDecider, commands: productCommandSchemas }),
  defineAggregate({ type: 'Order', decider: orderDecider, commands: orderCommandSchemas }),
]);
