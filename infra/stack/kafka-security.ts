/**
 * The local Kafka's secured listener (STRATA_STACK_SECURITY=on): clients and brokers
 * speak SASL_SSL, signing in with SCRAM-SHA-512 as the stack's user, over TLS with the
 * stack's server certificate; the controllers keep a plain listener on loopback. The
 * user's credential is written into the storage when it is formatted (KRaft has no
 * other way to make the first one before a broker that needs it is up).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localKafkaSecurity, stackLogin, type Config } from '../../shared/config.js';
import { StackError } from '../../shared/errors.js';
import { storePassword } from '../../shared/project-secret.js';
import { ensureStackCertificates } from './certificates.js';
import type { Reporter } from './reporter.js';

/** Written beside the storage when it was formatted with the stack's user. */
const securedMarker = 'secured';

/** A node's listener lines, at its address and controller address: plain, or SASL_SSL with the stack's certificate and user. */
export function listenerProperties(config: Config, dataDir: string, address: string, controllerAddress: string): string[] {
  const protocol = config.stack.security ? 'SASL_SSL' : 'PLAINTEXT';
  const listeners = [
    `listeners=${protocol}://${address},CONTROLLER://${controllerAddress}`,
    `advertised.listeners=${protocol}://${address}`,
    'controller.listener.names=CONTROLLER',
    `inter.broker.listener.name=${protocol}`,
    `listener.security.protocol.map=${protocol}:${protocol},CONTROLLER:PLAINTEXT`,
  ];
  if (!config.stack.security) return listeners;
  const password = storePassword(localKafkaSecurity(config.stack)) ?? '';
  return [
    ...listeners,
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${stackLogin}" password="${password}";`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${join(dataDir, 'keystore.pem')}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${join(dataDir, 'truststore.pem')}`,
  ];
}

/** The key and certificate a secured node presents, and the CA it trusts, in its own folder. */
export function writeNodeCertificates(config: Config, dataDir: string, reporter: Reporter): void {
  if (!config.stack.security) return;
  const files = ensureStackCertificates(config, reporter);
  writeFileSync(join(dataDir, 'keystore.pem'), readFileSync(files.key, 'utf8') + readFileSync(files.certificate, 'utf8'), { mode: 0o600 });
  writeFileSync(join(dataDir, 'truststore.pem'), readFileSync(files.ca));
}

/** The storage tool's arguments that make the stack's user, when secured. */
export function scramArguments(config: Config): string[] {
  if (!config.stack.security) return [];
  const password = storePassword(localKafkaSecurity(config.stack)) ?? '';
  return ['--add-scram', `SCRAM-SHA-512=[name=${stackLogin},password=${password}]`];
}

/** Notes, after formatting, whether the storage holds the stack's user. */
export function recordFormatting(config: Config, dataDir: string): void {
  if (config.stack.security) writeFileSync(join(dataDir, securedMarker), '');
}

/** A secured start on storage formatted plain would have no user to sign in as: refused. */
export function checkFormatting(config: Config, dataDir: string): void {
  if (config.stack.security && existsSync(join(dataDir, 'log', 'meta.properties')) && !existsSync(join(dataDir, securedMarker))) {
    throw new StackError(
      "the local Kafka's data was made before STRATA_STACK_SECURITY=on, and holds no user to sign in as.",
      'Delete it and start again (its topics are lost): strata infra down --purge kafka',
    );
  }
}
