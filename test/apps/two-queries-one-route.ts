/** Refused at load: two queries on one route. */
import { defineApp, defineQuery } from 'strata';
import { counterValue, counters, getCounter } from './counter-app.js';

export default defineApp({
  name: 'two-routes',
  aggregates: [counters],
  projections: [counterValue],
  queries: [getCounter, defineQuery({ ...getCounter, name: 'getCounterAgain', route: '/counters/:counterId' })],
});
