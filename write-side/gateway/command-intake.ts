/**
 * What the HTTP and gRPC front doors share: each command type's request schema,
 * its validation, and taking a valid command to its outcome (or to "pending" when
 * the outcome takes longer than the configured wait).
 *
 * HTTP validates through fastify with these same schemas (and documents them in
 * OpenAPI); gRPC validates here with Ajv. Either way a command reaches Kafka only
 * after validation passes.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Span } from '@opentelemetry/api';
import type { AccessControl } from '../../shared/auth/access-control.js';
import type { Principal } from '../../shared/auth/principal.js';
import { IdempotencyKeyReusedError, NotFoundError, UnavailableError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { SpanKind, contextOf, failSpan, newTraceparent, startSpan, traceparentOf, validTraceparent, withSpan } from '../../shared/trace-context.js';
import { gatewayCommandDuration, gatewayCommandRoutes, gatewayCommands, outcomeLabel } from '../command-metrics.js';
import { idempotencyKeyReuse, requestOf, type CommandOutcome, type CommandRecord } from '../command-record.js';
import { createCommandValidator, type CommandBody } from '../command-validation.js';
import { partitionOfAggregate } from '../../shared/topics.js';
import type { OutcomeListener } from './outcome-listener.js';
import type { DirectRoute } from './owner-client.js';
import type { PartitionReadiness } from './partition-readiness.js';
import type { Aggregate, Domain } from '../decider/domain.js';


export interface Submission {
  commandType: string;
  body: CommandBody;
  /** The Idempotency-Key; a new id when absent. */
  commandId?: string;
  /** A saga passes on the conversation it acts in; the command id otherwise. */
  correlationId?: string;
  /** The request's span (HTTP or gRPC server), where the SDK made one. */
  span?: Span;
  /** The caller's traceparent, used when no SDK made a span for the request. */
  traceparent?: string;
  /** Who sends it, authenticated by the front door. */
  principal: Principal;
}

/** `traceparent`: the trace of the request, for the caller to find it. */
export type IntakeResult = { commandId: string; traceparent: string } & (
  | { outcome: CommandOutcome }
  | { outcome: undefined }
);

export interface CommandIntake {
  domain: Domain;
  aggregateFor(commandType: string): Aggregate;
  /** Checks a body against its command type's schema; throws ValidationError naming the field. */
  validate(commandType: string, body: unknown): CommandBody;
  submit(submission: Submission): Promise<IntakeResult>;
  /**
   * The outcome of one of `tenant`'s commands; another tenant's is not found. One not
   * seen here yet is waited for up to `lookupWaitMs`: another gateway may have answered
   * it a moment ago, and its outcome is on its way here over the command-results topic.
   */
  outcomeOf(tenant: string, commandId: string): Promise<CommandOutcome | undefined>;
}

/**
 * The outcome of a command id already answered, when this is the same command again;
 * IdempotencyKeyReusedError when the key was taken by another command.
 */
function sameCommand(known: CommandOutcome | undefined, submission: Submission, commandId: string): CommandOutcome | undefined {
  if (known === undefined) return undefined;
  const { body, principal, commandType } = submission;
  const differs = idempotencyKeyReuse(known, { aggregateId: body.aggregateId, request: requestOf({ ...body, commandType, principal }) });
  if (differs.length > 0) throw new IdempotencyKeyReusedError(commandId, differs);
  return known;
}

/** Long enough for the results topic's fetch even on a loaded machine; what an unknown id's 404 costs. */
const lookupWaitMs = 1000;

export interface IntakeDeps {
  domain: Domain;
  /** Produces the command record with its trace context; resolves once Kafka has it. */
  send: (command: CommandRecord, traceparent: string) => Promise<void>;
  /** The direct route, when on. */
  decide?: DirectRoute;
  /** The outcomes read from the command-results topic (and the direct route's). */
  outcomes: Pick<OutcomeListener, 'wait' | 'get'>;
  /** Which partitions a command processor serves, from the status topic. */
  readiness: Pick<PartitionReadiness, 'whenServed'>;
  partitions: number;
  commandTimeoutMs: number;
  access: AccessControl;
  logger: Logger;
}

export function createCommandIntake(deps: IntakeDeps): CommandIntake {
  return {
    domain: deps.domain,
    aggregateFor: (commandType) => aggregateFor(deps.domain, commandType),
    outcomeOf: (tenant, commandId) => deps.outcomes.wait(tenant, commandId, lookupWaitMs),
    validate: createCommandValidator(deps.domain),
    submit: (submission) => submit(deps, submission),
  };
}

function aggregateFor(domain: Domain, commandType: string): Aggregate {
  const aggregate = domain.aggregateFor(commandType);
  if (aggregate === undefined) {
    throw new NotFoundError(`unknown command type ${commandType}; known: ${domain.commandTypes.join(', ')}`);
  }
  return aggregate;
}

/** One submission on its way: what every step of it needs. */
interface Submitted {
  submission: Submission;
  aggregate: Aggregate;
  commandId: string;
  /** The request's trace, which the command's spans and records join. */
  traceparent: string;
  /** When it arrived (performance.now()): its duration, and what is left of its timeout. */
  started: number;
}

/**
 * How a submission ended: with an outcome (undefined: pending), or unanswered, by an
 * error that is counted under `unanswered` and then thrown to the caller.
 */
type Answer = { outcome: CommandOutcome | undefined } | { unanswered: 'unavailable' | 'failed'; error: unknown };

async function submit(deps: IntakeDeps, submission: Submission): Promise<IntakeResult> {
  const started = performance.now();
  const aggregate = aggregateFor(deps.domain, submission.commandType);
  const { body, principal } = submission;
  // Before anything is looked up: a principal who may not send it learns nothing of the aggregate.
  deps.access.authorize(aggregate.access[submission.commandType], principal, { aggregateId: body.aggregateId, data: body.data }, `send ${submission.commandType}`);
  const commandId = submission.commandId ?? randomUUID();
  // The request's span (HTTP or gRPC server) when the SDK runs; else the caller's context.
  const traceparent = traceparentOf(submission.span) ?? validTraceparent(submission.traceparent) ?? newTraceparent();
  const submitted: Submitted = { submission, aggregate, commandId, traceparent, started };
  const outcome = counted(deps.logger, submitted, await answer(deps, submitted));
  return { commandId, traceparent, outcome };
}

/** Counts and times the answer, logs it, and throws the error of an unanswered submission. */
function counted(logger: Logger, submitted: Submitted, answer: Answer): CommandOutcome | undefined {
  const { submission, commandId } = submitted;
  const label = 'unanswered' in answer ? answer.unanswered : answer.outcome === undefined ? 'pending' : outcomeLabel(answer.outcome);
  const labels = { command_type: submission.commandType, outcome: label };
  gatewayCommands.inc(labels);
  gatewayCommandDuration.observe(labels, (performance.now() - submitted.started) / 1000);
  // Written inside the request's span: the log line carries its trace_id and span_id.
  withSpan(submission.span, () => { logger.debug({ commandId, commandType: submission.commandType, outcome: label }, 'command answered'); });
  if ('unanswered' in answer) throw answer.error;
  return answer.outcome;
}

/** Takes the command to its outcome: one already known, else by the direct route or through the commands topic. */
async function answer(deps: IntakeDeps, submitted: Submitted): Promise<Answer> {
  const { submission, commandId, started } = submitted;
  const { tenant } = submission.principal;
  const known = sameCommand(deps.outcomes.get(tenant, commandId), submission, commandId);
  if (known !== undefined) return { outcome: known };
  // Nothing is produced for a partition no processor serves (starting, rebuilding, failing over).
  if (!(await deps.readiness.whenServed(partitionOfAggregate(tenant, submission.body.aggregateId, deps.partitions), deps.commandTimeoutMs))) {
    const error = new UnavailableError(
      'no command processor serves this aggregate yet (one is starting, rebuilding or taking over); nothing was sent',
      1,
    );
    return { unanswered: 'unavailable', error };
  }
  const command = commandRecordOf(submitted);
  const timeLeft = () => Math.max(deps.commandTimeoutMs - (performance.now() - started), 0);
  if (deps.decide !== undefined) {
    const outcome = await tracedDecide(deps.decide, command, submitted, timeLeft());
    if (outcome !== undefined) {
      gatewayCommandRoutes.inc({ route: 'direct' });
      return { outcome };
    }
  }
  gatewayCommandRoutes.inc({ route: 'topic' });
  try {
    await tracedSend(deps.send, command, submitted);
  } catch (error) {
    return { unanswered: 'failed', error };
  }
  return { outcome: await deps.outcomes.wait(tenant, commandId, timeLeft()) };
}

function commandRecordOf({ submission, aggregate, commandId }: Submitted): CommandRecord {
  const { body, principal } = submission;
  return {
    commandId,
    commandType: submission.commandType,
    tenant: principal.tenant,
    aggregateType: aggregate.type,
    aggregateId: body.aggregateId,
    data: body.data,
    correlationId: submission.correlationId ?? commandId,
    submittedAt: new Date().toISOString(),
    principal,
    ...(body.expectedVersion === undefined ? {} : { expectedVersion: body.expectedVersion }),
  };
}

/** What a command's spans start from: under the request's span, else in the caller's trace. */
const spanOptions = ({ submission, traceparent }: Submitted, command: CommandRecord) => ({
  parent: submission.span ?? contextOf(traceparent),
  attributes: { 'strata.command.id': command.commandId, 'strata.aggregate.id': command.aggregateId },
});

/** The direct route's call, in a client span of its own. */
function tracedDecide(decide: DirectRoute, command: CommandRecord, submitted: Submitted, timeoutMs: number): Promise<CommandOutcome | undefined> {
  const span = startSpan(`decide ${command.commandType}`, { kind: SpanKind.CLIENT, ...spanOptions(submitted, command) });
  return decide(command, traceparentOf(span) ?? submitted.traceparent, timeoutMs).finally(() => { span.end(); });
}

/** Producing the command record, in a producer span of its own. */
async function tracedSend(send: IntakeDeps['send'], command: CommandRecord, submitted: Submitted): Promise<void> {
  const { parent, attributes } = spanOptions(submitted, command);
  const span = startSpan(`send ${command.commandType}`, { kind: SpanKind.PRODUCER, parent, attributes: { ...attributes, 'messaging.system': 'kafka' } });
  try {
    await send(command, traceparentOf(span) ?? submitted.traceparent);
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}
