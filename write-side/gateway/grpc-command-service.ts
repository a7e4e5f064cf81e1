/**
 * The gRPC CommandService (proto/strata/write/v1/command_service.proto): the same
 * intake as the HTTP write API, for internal callers. W3C trace context travels in
 * the `traceparent` metadata key.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { projectRoot } from '../../shared/config.js';
import { NotFoundError, ValidationError, toProblemDetails, type ProblemDetails } from '../../shared/errors.js';
import type { CommandOutcome } from '../command-record.js';
import { identifierPattern, type CommandIntake } from './command-intake.js';

export const commandServiceProto = join(projectRoot, 'proto', 'strata', 'write', 'v1', 'command_service.proto');

const protoOptions: protoLoader.Options = { keepCase: true, longs: Number, defaults: true, oneofs: true };

interface SubmitRequest {
  command_type: string;
  aggregate_id: string;
  expected_version?: number;
  data_json: string;
  command_id: string;
  correlation_id: string;
}

const statusFor: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  404: grpc.status.NOT_FOUND,
  409: grpc.status.ABORTED,
  413: grpc.status.INVALID_ARGUMENT,
  422: grpc.status.FAILED_PRECONDITION,
  503: grpc.status.UNAVAILABLE,
};

function problemError(problem: ProblemDetails): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  metadata.set('problem-json', JSON.stringify(problem));
  return Object.assign(new Error(problem.detail), {
    code: statusFor[problem.status] ?? grpc.status.INTERNAL,
    details: problem.detail,
    metadata,
  });
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

/** Resolves the callback with the handler's result, or with its error as a problem status. */
function unary<Req>(handler: (request: Req, metadata: grpc.Metadata) => Promise<unknown>) {
  return (call: grpc.ServerUnaryCall<Req, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    handler(call.request, call.metadata).then(
      (result) => { callback(null, result); },
      (error: unknown) => {
        const isServiceError = error instanceof Error && 'code' in error && 'metadata' in error;
        callback(isServiceError ? (error as grpc.ServiceError) : problemError(toProblemDetails(error)));
      },
    );
  };
}

export async function startGrpcCommandService(intake: CommandIntake, port: number): Promise<{ port: number; stop(): Promise<void> }> {
  const definition = protoLoader.loadSync(commandServiceProto, protoOptions);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    strata: { write: { v1: { CommandService: grpc.ServiceClientConstructor } } };
  };
  const server = new grpc.Server();
  server.addService(loaded.strata.write.v1.CommandService.service, {
    Submit: unary<SubmitRequest>(async (request, metadata) => {
      const body = intake.validate(request.command_type, {
        aggregateId: request.aggregate_id,
        ...(request.expected_version === undefined ? {} : { expectedVersion: request.expected_version }),
        data: parseData(request.data_json),
      });
      if (request.command_id !== '' && !new RegExp(identifierPattern).test(request.command_id)) {
        throw new ValidationError('command_id must be 1-128 characters of [A-Za-z0-9._:-]', '/command_id');
      }
      const traceparent = metadata.get('traceparent')[0];
      const { commandId, outcome } = await intake.submit({
        commandType: request.command_type,
        body,
        ...(request.command_id === '' ? {} : { commandId: request.command_id }),
        ...(request.correlation_id === '' ? {} : { correlationId: request.correlation_id }),
        ...(typeof traceparent === 'string' ? { traceparent } : {}),
      });
      return response(outcome, commandId);
    }),
    GetOutcome: unary<{ command_id: string }>((request) => {
      const outcome = intake.outcomeOf(request.command_id);
      if (outcome === undefined) throw new NotFoundError(`no outcome known for command ${request.command_id}`);
      return Promise.resolve(response(outcome, request.command_id));
    }),
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, actual) => {
      if (error) reject(error);
      else resolve(actual);
    });
  });
  return {
    port: bound,
    stop: () => new Promise<void>((resolve) => { server.tryShutdown(() => { resolve(); }); }),
  };
}
