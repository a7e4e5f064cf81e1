/** Refused at load: a query reads a projection (counter-value) the app does not define. */
import { defineApp } from 'strata';
import { counters, getCounter } from './counter-app.js';

export default defineApp({ name: 'unknown-projection', aggregates: [counters], projections: [], queries: [getCounter] });
