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

export function createCommandIntake(deps: {
  domain: Domain;
  /** Produces the command record with its trace context; resolves once Kafka has it. */
  send: (command: CommandRecord, traceparent: string) => Promise<void>;
  /**
   * The direct route, when on: hands the command to its partition's owner and resolves
   * to the outcome, or to undefined when no owner could take it (the command then goes
   * through the commands topic).
   */
  decide?: (command: CommandRecord, traceparent: string, timeoutMs: number) => Promise<CommandOutcome | undefined>;
  waitForOutcome: (tenant: string, commandId: string, timeoutMs: number) => Promise<CommandOutcome | undefined>;
  /** Resolves to whether a command processor serves the aggregate's partition, waiting up to `timeoutMs`. */
  waitForOwner: (tenant: string, aggregateId: string, timeoutMs: number) => Promise<boolean>;
  outcomeOf: (tenant: string, commandId: string) => CommandOutcome | undefined;
  commandTimeoutMs: number;
  access: AccessControl;
  logger: Logger;
}): CommandIntake {
  const validateBody = createCommandValidator(deps.domain);

  const aggregateFor = (commandType: string): Aggregate => {
    const aggregate = deps.domain.aggregateFor(commandType);
    if (aggregate === undefined) {
      throw new NotFoundError(`unknown command type ${commandType}; known: ${deps.domain.commandTypes.join(', ')}`);
    }
    return aggregate;
  };

  return {
    domain: deps.domain,
    aggregateFor,
    outcomeOf: (tenant, commandId) => deps.waitForOutcome(tenant, commandId, lookupWaitMs),

    validate: validateBody,

    async submit(submission) {
      const started = performance.now();
      const aggregate = aggregateFor(submission.commandType);
      const { body, principal } = submission;
      // Before anything is looked up: a principal who may not send it learns nothing of the aggregate.
      deps.access.authorize(aggregate.access[submission.commandType], principal, { aggregateId: body.aggregateId, data: body.data }, `send ${submission.commandType}`);
      const commandId = submission.commandId ?? randomUUID();
      const callers = validTraceparent(submission.traceparent);
      // The request's span (HTTP or gRPC server) when the SDK runs; else the caller's context.
      const requestSpan = submission.span;
      const traceparent = traceparentOf(requestSpan) ?? callers ?? newTraceparent();
      const answered = (outcome: CommandOutcome | undefined, label = outcome === undefined ? 'pending' : outcomeLabel(outcome)) => {
        const labels = { command_type: submission.commandType, outcome: label };
        gatewayCommands.inc(labels);
        gatewayCommandDuration.observe(labels, (performance.now() - started) / 1000);
        // Written inside the request's span: the log line carries its trace_id and span_id.
        withSpan(requestSpan, () => { deps.logger.debug({ commandId, commandType: submission.commandType, outcome: label }, 'command answered'); });
        return { commandId, traceparent, outcome };
      };
      const known = sameCommand(deps.outcomeOf(principal.tenant, commandId), submission, commandId);
      if (known !== undefined) return answered(known);
      // Nothing is produced for a partition no processor serves (starting, rebuilding, failing over).
      if (!(await deps.waitForOwner(principal.tenant, body.aggregateId, deps.commandTimeoutMs))) {
        answered(undefined, 'unavailable');
        throw new UnavailableError(
          'no command processor serves this aggregate yet (one is starting, rebuilding or taking over); nothing was sent',
          1,
        );
      }
      const command: CommandRecord = {
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
      const spanAttributes = { 'strata.command.id': commandId, 'strata.aggregate.id': body.aggregateId };
      const timeLeft = () => Math.max(deps.commandTimeoutMs - (performance.now() - started), 0);
      if (deps.decide !== undefined) {
        const direct = startSpan(`decide ${submission.commandType}`, { kind: SpanKind.CLIENT, parent: requestSpan ?? contextOf(traceparent), attributes: spanAttributes });
        const outcome = await deps.decide(command, traceparentOf(direct) ?? traceparent, timeLeft()).finally(() => { direct.end(); });
        if (outcome !== undefined) {
          gatewayCommandRoutes.inc({ route: 'direct' });
          return answered(outcome);
        }
      }
      gatewayCommandRoutes.inc({ route: 'topic' });
      const span = startSpan(`send ${submission.commandType}`, {
        kind: SpanKind.PRODUCER,
        parent: requestSpan ?? contextOf(traceparent),
        attributes: { ...spanAttributes, 'messaging.system': 'kafka' },
      });
      try {
        await deps.send(command, traceparentOf(span) ?? traceparent);
      } catch (error) {
        failSpan(span, error);
        answered(undefined, 'failed');
        throw error;
      } finally {
        span.end();
      }
      return answered(await deps.waitForOutcome(principal.tenant, commandId, timeLeft()));
    },
  };
}
