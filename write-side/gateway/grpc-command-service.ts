/**
 * The gRPC CommandService (proto/strata/write/v1/command_service.proto): the same
 * intake as the HTTP write API, for internal callers. W3C trace context travels in
 * the `traceparent` metadata key.
 */
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import type { AccessControl } from '../../shared/auth/access-control.js';
import { authenticated, loadService, problemError, protoPath, serveGrpc, unary, type GrpcServer } from '../../shared/grpc-server.js';
import type { ListenAt } from '../../shared/network-address.js';
import { identifierRule, isIdentifier } from '../../shared/identifiers.js';
import type { CommandOutcome } from '../command-record.js';
import type { CommandIntake } from './command-intake.js';
import { maxRequestBytes } from '../../shared/request-limits.js';
import type { RateLimit } from '../../shared/rate-limit.js';

export const commandServiceProto = protoPath('strata', 'write', 'v1', 'command_service.proto');

interface SubmitRequest {
  command_type: string;
  aggregate_id: string;
  expected_version?: number;
  data_json: string;
  command_id: string;
  correlation_id: string;
}

function response(outcome: CommandOutcome | undefined, commandId: string) {
  if (outcome === undefined) return { pending: { command_id: commandId } };
  if (outcome.status === 'rejected') throw problemError(outcome.problem);
  return {
    accepted: {
      command_id: outcome.commandId,
      aggregate_id: outcome.aggregateId,
      version: outcome.version,
      events: outcome.events,
      consistency_token: outcome.consistencyToken,
    },
  };
}

function parseData(json: string): unknown {
  try {
    return JSON.parse(json === '' ? '{}' : json);
  } catch {
    throw new ValidationError('data_json is not valid JSON', '/data');
  }
}

export function startGrpcCommandService(intake: CommandIntake, access: AccessControl, at: ListenAt, rate?: RateLimit): Promise<GrpcServer> {
  const limit = (method: string) => (rate === undefined ? undefined : { rate, method });
  const service = loadService(commandServiceProto, 'strata.write.v1.CommandService', {
    keepCase: true,
    longs: Number,
    defaults: true,
    oneofs: true,
  });
  return serveGrpc(service, {
    Submit: unary<SubmitRequest>(authenticated(access, async (request, principal, metadata, span) => {
      const body = intake.validate(request.command_type, {
        aggregateId: request.aggregate_id,
        ...(request.expected_version === undefined ? {} : { expectedVersion: request.expected_version }),
        data: parseData(request.data_json),
      });
      for (const field of ['command_id', 'correlation_id'] as const) {
        if (request[field] !== '' && !isIdentifier(request[field])) throw new ValidationError(`${field} must be ${identifierRule}`, `/${field}`);
      }
      const traceparent = metadata.get('traceparent')[0];
      const { commandId, outcome } = await intake.submit({
        commandType: request.command_type,
        body,
        principal,
        span,
        ...(request.command_id === '' ? {} : { commandId: request.command_id }),
        ...(request.correlation_id === '' ? {} : { correlationId: request.correlation_id }),
        ...(typeof traceparent === 'string' ? { traceparent } : {}),
      });
      return response(outcome, commandId);
    }, limit('Submit'))),
    GetOutcome: unary<{ command_id: string }>(authenticated(access, async (request, principal) => {
      const outcome = await intake.outcomeOf(principal.tenant, request.command_id);
      if (outcome === undefined) throw new NotFoundError(`no outcome known for command ${request.command_id}`);
      return response(outcome, request.command_id);
    }, limit('GetOutcome'))),
  }, at, { maxMessageBytes: maxRequestBytes });
}
