/**
 * Strata's testing entry point (`import … from 'strata/testing'`): given/when/then
 * for deciders, projections and sagas, with no infrastructure, on node:assert; and
 * deterministic event logs decided by an app's own deciders.
 */
export { deciderSpec, defaultTestContext, type DeciderSpec } from '../write-side/decider/given-when-then.js';
export { decidedLog, type DecideCommand } from '../write-side/decider/decided-log.js';
export { seededRandom } from '../shared/seeded-random.js';
export { projectionSpec, testEvent, type ProjectionSpec } from '../projections/given-when-then.js';
export { deadlineOf, on, sagaSpec, type SagaExpectation } from '../write-side/saga/given-when-then.js';
export { runSaga } from '../write-side/saga/process-manager.js';
export { upcastEvent } from '../shared/event-schemas.js';
export { assertEventLock } from './event-lock.js';
