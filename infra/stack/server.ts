/**
 * What the stack knows of each server. The definitions (kafka-server.ts,
 * elasticsearch-server.ts, redis-server.ts, zipkin-server.ts, keycloak-server.ts)
 * fill this in; stack.ts runs them all the same way.
 */
import type { Config } from '../../shared/config.js';
import type { ArtifactName } from './artifacts.js';
import type { Launch } from './process-control.js';
import type { Reporter } from './reporter.js';

/** A kind of server; the nodes of a local Kafka or Elasticsearch cluster after the first are `kafka-2`, `elasticsearch-2`…. */
export type ServerKind = 'kafka' | 'elasticsearch' | 'redis' | 'zipkin' | 'keycloak';
export type ServerName = ServerKind | `kafka-${number}` | `elasticsearch-${number}`;

export interface PortUse {
  port: number;
  /** The variable that moves it, for the "port in use" message. */
  variable: string;
}

export interface PrepareContext {
  config: Config;
  /** This server's own data folder inside the stack directory (created, empty on first use). */
  dataDir: string;
  reporter: Reporter;
}

export interface ServerDefinition {
  name: ServerName;
  /** A node of a cluster: its id (Kafka's node.id; Elasticsearch's node n is strata-local-n). */
  node?: number;
  /** The Maven-fetched artifact it runs from, if any; `up` fetches all of them in one Maven run. */
  artifact?: ArtifactName;
  ports(config: Config): PortUse[];
  /** Where clients reach it, as shown in the status table. */
  address(config: Config): string;
  /** Fetches or installs what it needs, writes its configuration, says how to launch it. */
  prepare(context: PrepareContext): Promise<Launch>;
  /** A real health check over the server's own protocol; resolves to its version, throws while not ready. */
  probe(config: Config): Promise<string>;
  /** Where its data and configuration live when not in the project's stack folder (a server that runs as another user). */
  dataDir?(config: Config): string | undefined;
  /** What it needs once healthy beyond its own files (Keycloak's realm): idempotent, run after each start and on each `up` that finds it running. */
  configure?(config: Config): Promise<void>;
  /** Not part of the stack unless asked for by name (or, for Keycloak, by STRATA_AUTH=on, the default). */
  optional?: boolean;
  /** How long a cold start may take on a 2-core machine before `up` gives up. */
  startTimeoutMs: number;
}
