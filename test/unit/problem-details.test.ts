import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BusinessRuleError,
  NotFoundError,
  UnavailableError,
  ValidationError,
  VersionConflictError,
  toProblemDetails,
} from '../../shared/errors.js';

describe('problem details (RFC 9457)', () => {
  it('carries the status, a type URI, a title and the detail', () => {
    const problem = toProblemDetails(new NotFoundError('no command type "ShipPizza"'), '/commands/ShipPizza');
    assert.deepEqual(problem, {
      type: 'https://strata.dev/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: 'no command type "ShipPizza"',
      instance: '/commands/ShipPizza',
    });
  });

  it('names the failing field of a validation error', () => {
    const problem = toProblemDetails(new ValidationError('must be at least 1', '/data/quantity'));
    assert.equal(problem.status, 400);
    assert.equal(problem.field, '/data/quantity');
  });

  it('gives the current version on a conflict, the rule on a refusal, the retry delay on an outage', () => {
    assert.equal(toProblemDetails(new VersionConflictError('order-1', 3, 5)).currentVersion, 5);
    assert.equal(toProblemDetails(new BusinessRuleError('cannot ship a cancelled order', 'order-not-confirmed')).status, 422);
    assert.equal(toProblemDetails(new UnavailableError('redis is down', 2)).retryAfter, 2);
  });

  it('keeps the standard members from being overwritten by extensions', () => {
    class Overreaching extends ValidationError {
      override extensions() {
        return { status: 200, type: 'about:blank', title: 'fine', extra: 'kept' };
      }
    }
    const problem = toProblemDetails(new Overreaching('bad', '/status'));
    assert.equal(problem.status, 400);
    assert.equal(problem.type, 'https://strata.dev/problems/validation-failed');
    assert.equal(problem.title, 'Invalid request');
    assert.equal(problem.extra, 'kept');
  });

  it('never leaks the message or stack of an unexpected error', () => {
    const problem = toProblemDetails(new TypeError('cannot read properties of undefined (secret internals)'));
    assert.equal(problem.status, 500);
    assert.doesNotMatch(JSON.stringify(problem), /secret internals|TypeError|at /);
  });
});
