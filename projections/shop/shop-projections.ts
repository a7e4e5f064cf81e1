/**
 * The reference read models of docs/shop.md, in the order the projector starts them.
 */
import type { Projection } from '../projection.js';
import { customerOrders } from './customer-orders.js';
import { orderDetails } from './order-details.js';
import { orderSearch } from './order-search.js';
import { productCatalogue } from './product-catalogue.js';
import { productStock } from './product-stock.js';
import { topProducts } from './top-products.js';

export const shopProjections: readonly Projection[] = [
  orderDetails,
  customerOrders,
  productStock,
  topProducts,
  orderSearch,
  productCatalogue,
];
