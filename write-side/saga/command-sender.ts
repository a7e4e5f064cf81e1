/**
 * How a saga sends its commands: through the write side's gRPC CommandService,
 * like any client, never by writing to Kafka behind the gateway's back, behind a
 * circuit breaker so that a gateway that is down is waited for instead of hammered.
 *
 * The outcome matters only in kind: `sent` (accepted, or pending: the write side has
 * it and will decide), `refused` (the domain said no: the saga learns what happened
 * from the events, as for anyone's command), or a thrown UnavailableError (try
 * again later with the same command id).
 */
import type { ServiceCredentials } from '../../shared/auth/service-credentials.js';
import { tenantHeader } from '../../shared/auth/tenants.js';
import * as grpc from '@grpc/grpc-js';
import { UnavailableError } from '../../shared/errors.js';
import { loadService } from '../../shared/grpc-server.js';
import type { Logger } from '../../shared/logger.js';
import { createBackendBreaker } from '../../shared/backend-breaker.js';
import { commandServiceProto } from '../gateway/grpc-command-service.js';
import type { OutboxCommand } from './saga-store.js';

export type SendOutcome = { kind: 'sent' } | { kind: 'refused'; code: string; detail: string };

export interface CommandSender {
  /** Sends `command` acting for `tenant` (a service's token may act for any). */
  send(command: OutboxCommand, correlationId: string, tenant: string): Promise<SendOutcome>;
  close(): void;
}

/** Answers that are the domain's or the request's, not the gateway's health. */
const refusals = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.ABORTED, grpc.status.FAILED_PRECONDITION, grpc.status.ALREADY_EXISTS, grpc.status.PERMISSION_DENIED]);

export function createCommandSender(options: { address: string; timeoutMs: number; credentials: ServiceCredentials; logger: Logger }): CommandSender {
  const CommandService = loadService(commandServiceProto, 'strata.write.v1.CommandService', { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const client = new CommandService(options.address, grpc.credentials.createInsecure());
  const breaker = createBackendBreaker({ backend: 'command-service', timeoutMs: options.timeoutMs, resetMs: 2_000, logger: options.logger });

  const submit = async (outbox: OutboxCommand, correlationId: string, tenant: string) => {
    const authorization = await options.credentials.authorization();
    return new Promise<SendOutcome>((resolve, reject) => {
      // The command joins the trace of the event that caused it (the gateway reads this key).
      const metadata = new grpc.Metadata();
      if (outbox.traceparent !== undefined) metadata.set('traceparent', outbox.traceparent);
      if (authorization !== undefined) metadata.set('authorization', authorization);
      metadata.set(tenantHeader, tenant);
      const request = {
        command_type: outbox.command.commandType,
        aggregate_id: outbox.command.aggregateId,
        data_json: JSON.stringify(outbox.command.data),
        command_id: outbox.commandId,
        correlation_id: correlationId,
      };
      const call = client.Submit as (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null) => void) => void;
      call.call(client, request, metadata, { deadline: Date.now() + options.timeoutMs }, (error) => {
        if (error === null) resolve({ kind: 'sent' });
        else if (refusals.has(error.code)) resolve({ kind: 'refused', code: grpc.status[error.code], detail: error.details });
        else reject(error);
      });
    });
  };

  return {
    async send(command, correlationId, tenant) {
      try {
        return await breaker.run(() => submit(command, correlationId, tenant));
      } catch (error) {
        if (error instanceof UnavailableError) throw error;
        throw new UnavailableError(`the command service did not take ${command.command.commandType}: ${error instanceof Error ? error.message : String(error)}`, 1);
      }
    },
    close() {
      breaker.shutdown();
      client.close();
    },
  };
}
