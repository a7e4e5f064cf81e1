/**
 * The files of Strata's own package that its code reads at run time (besides its
 * compiled modules), in one place: every read of the package goes through
 * `packageFile`, and a test packs the package and checks that the tarball holds
 * each of them, so that an installed Strata has what a clone has.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Strata's own folder (package.json, infra/, proto/): this file runs from dist/shared/. */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Each run-time file (or folder, ending in `/`) by what it is for, relative to the package. */
export const packageFiles = {
  manifest: 'package.json',
  protos: 'proto/',
  appTemplate: 'templates/app/',
  serverVersions: 'infra/pom.xml',
  kafkaLogging: 'infra/kafka/log4j.properties',
  localRealm: 'infra/keycloak/realm-strata.json',
} as const;

export type PackageFile = keyof typeof packageFiles;

/** The absolute path of a run-time file of the package (`more`: a path inside a folder). */
export const packageFile = (name: PackageFile, ...more: string[]): string => join(packageRoot, packageFiles[name], ...more);
