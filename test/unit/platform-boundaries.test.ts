/**
 * The platform does not depend on its example: no file of the platform folders
 * imports anything under examples/, and the example imports Strata only through
 * its public entry points ('strata', 'strata/testing'), as a user's app would. The
 * Kafka client sits behind Strata's own interface: only its adapter imports it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../shared/package-files.js';

const sources = (folder: string) =>
  readdirSync(join(packageRoot, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ file: join(folder, file), text: readFileSync(join(packageRoot, folder, file), 'utf8') }));

const importsOf = (text: string) => [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((match) => match[1] ?? '');

describe('platform boundaries', () => {
  it('no platform folder mentions examples/', () => {
    for (const folder of ['app', 'write-side', 'read-side', 'projections', 'stores', 'shared', 'infra', 'cli']) {
      for (const { file, text } of sources(folder)) assert.doesNotMatch(text, /examples\//, file);
    }
  });

  it('only the Kafka adapter (shared/kafka/kafkajs-*) imports the Kafka client', () => {
    for (const folder of ['app', 'write-side', 'read-side', 'projections', 'stores', 'shared', 'infra', 'cli', 'bench']) {
      for (const { file, text } of sources(folder)) {
        if (/^shared\/kafka\/kafkajs-/.test(file)) continue;
        assert.ok(!importsOf(text).some((specifier) => specifier === 'kafkajs' || specifier.startsWith('kafkajs/')), `${file} imports kafkajs`);
      }
    }
  });

  it('the example imports Strata through its public entry points only', () => {
    for (const { file, text } of sources('examples')) {
      for (const specifier of importsOf(text)) {
        const allowed = specifier === 'strata' || specifier === 'strata/testing' || specifier.startsWith('node:') || /^\.\.?\//.test(specifier);
        assert.ok(allowed, `${file} imports ${specifier}`);
        if (specifier.startsWith('.')) assert.doesNotMatch(specifier, /^(\.\.\/){2,}/, `${file} reaches out of the example: ${specifier}`);
      }
    }
  });
});
