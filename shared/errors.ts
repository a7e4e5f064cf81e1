/**
 * Every error Strata raises on purpose is defined here, once.
 *
 * Client mistakes and backend outages map to RFC 9457 problem details; the
 * services turn any of these into an `application/problem+json` response with
 * `toProblemDetails`. Anything that is not a StrataError is a bug and becomes a
 * 500 without its message or stack.
 */

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

const problemTypeBase = 'https://strata.dev/problems/';

export abstract class StrataError extends Error {
  abstract readonly status: number;
  abstract readonly problemType: string;
  abstract readonly title: string;

  /** Members added to the problem document beside the standard ones. */
  extensions(): Record<string, unknown> {
    return {};
  }
}

/** Start-up stops on this: an environment variable has a value Strata cannot use. */
export class ConfigError extends StrataError {
  readonly status = 500;
  readonly problemType = 'invalid-configuration';
  readonly title = 'Invalid configuration';

  constructor(
    readonly variable: string,
    readonly value: string,
    reason: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is invalid: ${reason}`);
  }
}

/** The local stack could not do what was asked; `hint` tells the operator what to do. */
export class StackError extends StrataError {
  readonly status = 500;
  readonly problemType = 'stack-failure';
  readonly title = 'Local stack failure';

  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * Start-up stops on this: Redis or Elasticsearch answered, and refused this process's
 * credentials or TLS settings. Retrying cannot help, so it is said once, naming the
 * server and the settings to fix.
 */
export class StoreAccessError extends StrataError {
  readonly status = 500;
  readonly problemType = 'store-access-refused';
  readonly title = 'Store refused access';
}

/**
 * The app module cannot be used: not found, failed to load, exports no app, or its
 * definition breaks a rule (two queries on one route, a query reading a projection
 * the app does not define, ...). The CLI stops with exit code 2, nothing started.
 */
export class AppDefinitionError extends StrataError {
  readonly status = 500;
  readonly problemType = 'invalid-app';
  readonly title = 'Invalid app';
}

/**
 * A decider returned an event its aggregate's declared schema does not accept (an
 * undeclared type, a retired one, data that breaks the current version's schema): a
 * programming error of the app's. The command is refused and nothing is appended.
 */
export class EventSchemaError extends StrataError {
  readonly status = 500;
  readonly problemType = 'invalid-event';
  readonly title = 'The decider returned an invalid event';
}

/**
 * An operator command cannot do what was asked: an unknown projection (`usage`), a
 * replay already running or a live version to drop (`conflict`), a stack that does
 * not answer (`failure`). `hint` says what to do instead.
 */
export class OperatorError extends StrataError {
  readonly status = 409;
  readonly problemType = 'operator-error';
  readonly title = 'Operator command refused';

  constructor(
    message: string,
    readonly kind: 'usage' | 'conflict' | 'failure',
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** 400: the input breaks its schema; `field` is a JSON pointer to the failing part. */
export class ValidationError extends StrataError {
  readonly status = 400;
  readonly problemType = 'validation-failed';
  readonly title = 'Invalid request';

  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }

  override extensions(): Record<string, unknown> {
    return { field: this.field };
  }
}

/**
 * 401: no bearer token, or one that does not verify (signature, issuer, audience, time,
 * algorithm). Answered with `WWW-Authenticate: Bearer` (RFC 6750).
 */
export class UnauthenticatedError extends StrataError {
  readonly status = 401;
  readonly problemType = 'unauthenticated';
  readonly title = 'Authentication required';

  /** `missing`: no token was sent; `invalid`: the one sent does not verify. */
  constructor(
    message: string,
    readonly reason: 'missing' | 'invalid',
  ) {
    super(message);
  }

  /** The challenge of RFC 6750: an error code only for a token that was sent. */
  challenge(): string {
    return this.reason === 'missing' ? 'Bearer realm="strata"' : `Bearer realm="strata", error="invalid_token"`;
  }
}

/** 403: a verified principal that may not run this command or query. */
export class ForbiddenError extends StrataError {
  readonly status = 403;
  readonly problemType = 'forbidden';
  readonly title = 'Forbidden';
}

/** An answer that says when to ask again: `retryAfter` in the document, `Retry-After` in the header. */
abstract class RetryLaterError extends StrataError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }

  override extensions(): Record<string, unknown> {
    return { retryAfter: this.retryAfterSeconds };
  }
}

/** 429: a principal over its rate limit on a route. */
export class TooManyRequestsError extends RetryLaterError {
  readonly status = 429;
  readonly problemType = 'rate-limited';
  readonly title = 'Too many requests';
}

/** 404: an unknown command type, route or resource. */
export class NotFoundError extends StrataError {
  readonly status = 404;
  readonly problemType = 'not-found';
  readonly title = 'Not found';
}

/** 409: `expectedVersion` differs from the aggregate's version. */
export class VersionConflictError extends StrataError {
  readonly status = 409;
  readonly problemType = 'version-conflict';
  readonly title = 'Version conflict';

  constructor(
    readonly aggregateId: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(
      `aggregate ${aggregateId} is at version ${currentVersion}, not the expected ${expectedVersion}`,
    );
  }

  override extensions(): Record<string, unknown> {
    return { aggregateId: this.aggregateId, currentVersion: this.currentVersion };
  }
}

/**
 * 422: an Idempotency-Key already taken by another command of the tenant (another type,
 * aggregate, sender or body); nothing was run. Answering the first command's outcome
 * would tell the sender that a command it never sent succeeded.
 */
export class IdempotencyKeyReusedError extends StrataError {
  readonly status = 422;
  readonly problemType = 'idempotency-key-reused';
  readonly title = 'Idempotency key reused';
  readonly differs: string[];

  constructor(commandId: string, differs: Iterable<string>) {
    const names = Array.from(differs);
    super(`the Idempotency-Key ${commandId} was used for another command (its ${names.join(', ')} differed); send a new key for a new command`);
    this.differs = names;
  }

  override extensions(): Record<string, unknown> {
    return { differs: this.differs };
  }
}

/** 413: the request body is over the limit. */
export class PayloadTooLargeError extends StrataError {
  readonly status = 413;
  readonly problemType = 'payload-too-large';
  readonly title = 'Request body too large';
}

/** 415: the request body is not JSON. */
export class UnsupportedMediaTypeError extends StrataError {
  readonly status = 415;
  readonly problemType = 'unsupported-media-type';
  readonly title = 'Unsupported content type';
}

/** 422: the command is well formed but a business rule refuses it. */
export class BusinessRuleError extends StrataError {
  readonly status = 422;
  readonly problemType = 'business-rule-violated';
  readonly title = 'Business rule violated';

  constructor(
    message: string,
    readonly rule: string,
  ) {
    super(message);
  }

  override extensions(): Record<string, unknown> {
    return { rule: this.rule };
  }
}

/** 503: a backend is down or a wait ran out; the client may retry after `retryAfterSeconds`. */
export class UnavailableError extends RetryLaterError {
  readonly status = 503;
  readonly problemType = 'unavailable';
  readonly title = 'Service unavailable';
}

/**
 * 503: a read given a consistency token waited its bound and the read model has
 * not yet reached the write: answering would be stale, so it answers this instead.
 */
export class ConsistencyTimeoutError extends StrataError {
  readonly status = 503;
  readonly problemType = 'consistency-timeout';
  readonly title = 'Read model not caught up';

  constructor(
    readonly projection: string,
    readonly waitedMs: number,
    readonly retryAfterSeconds = 1,
  ) {
    super(`the ${projection} read model has not reached the consistency token's write after ${String(waitedMs)} ms; retry with the same token`);
  }

  override extensions(): Record<string, unknown> {
    return { projection: this.projection, retryAfter: this.retryAfterSeconds };
  }
}

/**
 * A stored event no definition of the app can read: a version of its type newer than the
 * app declares (an older build reading what a newer one wrote), or one it never had.
 */
export class UnreadableEventError extends Error {
  override readonly name = 'UnreadableEventError';
}

/** A Kafka record Strata did not write, or not in a form it knows: never a client's mistake. */
export class MalformedRecordError extends Error {}

/**
 * A transactional producer was fenced: a newer producer claimed its transactional id
 * (the partition has a new owner), and this one can never commit again.
 */
export class ProducerFencedError extends Error {
  override readonly name = 'ProducerFencedError';

  constructor(cause: unknown) {
    super(`fenced by a newer producer with the same transactional id: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * A projection holds back an event whose aggregate has an earlier event in the dead
 * letters: applying it on a document that missed that one would make the document
 * wrong, so it waits in the dead letters too and `strata dlq retry` applies both in order.
 */
export class HeldEventError extends Error {
  override readonly name = 'HeldEventError';

  constructor(aggregateId: string) {
    super(`held back: an earlier event of ${aggregateId} is in the dead letters; it is applied after that one is retried (or dropped)`);
  }
}

/** The problem document for any thrown value; internals of unexpected errors never leak. */
export function toProblemDetails(error: unknown, instance?: string): ProblemDetails {
  const where = instance === undefined ? {} : { instance };
  if (error instanceof StrataError) {
    return {
      ...error.extensions(),
      type: problemTypeBase + error.problemType,
      title: error.title,
      status: error.status,
      detail: error.message,
      ...where,
    };
  }
  return {
    type: problemTypeBase + 'internal-error',
    title: 'Internal error',
    status: 500,
    detail: 'The request failed on our side; it has been logged.',
    ...where,
  };
}
