/**
 * The server artifacts: Kafka's classpath, the Elasticsearch and Keycloak
 * distributions and the Zipkin jar, fetched by Maven (infra/pom.xml) into the artifact cache on the first
 * `up`. Each server's folder gets a `.complete` marker once whole; with all markers
 * present Maven is never called, so warm starts touch no network.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../../shared/errors.js';
import { packageFile } from '../../shared/package-files.js';
import { findMaven, runWithProgress } from './prerequisites.js';
import type { Reporter } from './reporter.js';

const pomPath = packageFile('serverVersions');

export type ArtifactName = 'kafka' | 'elasticsearch' | 'zipkin' | 'keycloak';

export interface Versions {
  kafka: string;
  elasticsearch: string;
  zipkin: string;
  keycloak: string;
}

/** The versions pinned in infra/pom.xml, the single place they are written. */
export function readVersions(): Versions {
  const pom = readFileSync(pomPath, 'utf8');
  const property = (name: string) => {
    const match = new RegExp(`<${name}>([^<]+)</${name}>`).exec(pom);
    if (!match?.[1]) throw new StackError(`infra/pom.xml has no <${name}> property`);
    return match[1].trim();
  };
  return {
    kafka: property('kafka.version'),
    elasticsearch: property('elasticsearch.version'),
    zipkin: property('zipkin.version'),
    keycloak: property('keycloak.version'),
  };
}

export interface ArtifactPaths {
  kafkaLibs: string;
  elasticsearchHome: string;
  zipkinJar: string;
  keycloakHome: string;
}

function folders(artifactsDir: string, versions: Versions): Record<ArtifactName, string> {
  return {
    kafka: join(artifactsDir, `kafka-${versions.kafka}`),
    elasticsearch: join(artifactsDir, `elasticsearch-${versions.elasticsearch}`),
    zipkin: join(artifactsDir, `zipkin-${versions.zipkin}`),
    keycloak: join(artifactsDir, `keycloak-${versions.keycloak}`),
  };
}

function artifactPaths(artifactsDir: string, versions: Versions): ArtifactPaths {
  const dirs = folders(artifactsDir, versions);
  return {
    kafkaLibs: join(dirs.kafka, 'libs'),
    elasticsearchHome: dirs.elasticsearch,
    zipkinJar: join(dirs.zipkin, `zipkin-server-${versions.zipkin}-exec.jar`),
    keycloakHome: dirs.keycloak,
  };
}

const mavenGoal: Record<ArtifactName, string> = {
  kafka: 'dependency:copy-dependencies@kafka',
  elasticsearch: 'dependency:unpack-dependencies@elasticsearch',
  zipkin: 'dependency:copy-dependencies@zipkin',
  keycloak: 'dependency:unpack-dependencies@keycloak',
};

/** Fetches whatever of `needed` is not in the cache yet, in one Maven run. */
export async function ensureArtifacts(
  artifactsDir: string,
  needed: ArtifactName[],
  reporter: Reporter,
): Promise<ArtifactPaths> {
  const versions = readVersions();
  const dirs = folders(artifactsDir, versions);
  const missing = needed.filter((name) => !existsSync(join(dirs[name], '.complete')));
  if (missing.length > 0) {
    const mvn = findMaven();
    reporter.step(
      `fetching ${missing.map((name) => `${name} ${versions[name]}`).join(', ')} from Maven Central (first run only)`,
    );
    await runWithProgress(
      mvn,
      ['-B', '-f', pomPath, ...missing.map((name) => mavenGoal[name]), `-Dstack.artifacts=${artifactsDir}`],
      downloadReporter(reporter),
    );
    if (missing.includes('elasticsearch')) makeExecutable(join(dirs.elasticsearch, 'bin'));
    if (missing.includes('keycloak')) makeExecutable(join(dirs.keycloak, 'bin'));
    for (const name of missing) writeFileSync(join(dirs[name], '.complete'), new Date().toISOString() + '\n');
  }
  return artifactPaths(artifactsDir, versions);
}

/** Maven's build log cut down to one line a downloaded file, and its errors. */
function downloadReporter(reporter: Reporter): Reporter {
  return {
    step: reporter.step,
    detail: (line) => {
      const download = /Downloaded from \S+: \S*\/([^/\s]+) \(([^)]*?)(?: at [^)]*)?\)/.exec(line);
      if (download) reporter.detail(`downloaded ${download[1] ?? ''} (${download[2] ?? ''})`);
      else if (/\[ERROR\]|BUILD FAILURE/.test(line)) reporter.detail(line);
    },
  };
}

/** The unpacked zip may lose the scripts' mode bits. */
function makeExecutable(binDir: string): void {
  for (const entry of readdirSync(binDir)) chmodSync(join(binDir, entry), 0o755);
}
