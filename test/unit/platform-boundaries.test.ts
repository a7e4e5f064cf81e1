/**
 * The platform does not depend on its example: no file of the platform folders (the
 * benchmark harness among them) imports anything under examples/ or test/support/, or
 * names the example app, and the example imports Strata only through its public entry
 * points ('strata', 'strata/testing'), as a user's app would. The Kafka client sits
 * behind Strata's own interface: only its adapter imports it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../shared/package-files.js';

const sources = (folder: string) =>
  readdirSync(join(packageRoot, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ file: join(folder, file), text: readFileSync(join(packageRoot, folder, file), 'utf8') }));

/** The platform's folders (stores/ once it exists) and the bench, which measures any app the way `strata start` runs it. */
const platformFolders = ['app', 'cli', 'shared', 'infra', 'write-side', 'read-side', 'projections', 'stores', 'bench'].filter((folder) => existsSync(join(packageRoot, folder)));

const importsOf = (text: string) => [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((match) => match[1] ?? '');

/** Every module a file loads: static imports, dynamic import('…'), and files named by new URL('…', import.meta.url). */
const modulesOf = (text: string) => [
  ...importsOf(text),
  ...[...text.matchAll(/\bimport\(\s*['"`]([^'"`]+)['"`]/g), ...text.matchAll(/\bnew URL\(\s*['"`]([^'"`]+)['"`]\s*,\s*import\.meta\.url/g)].map((match) => match[1] ?? ''),
];

/** Where a relative specifier of `file` points, from the package root (a package name as it is). */
const targetOf = (file: string, specifier: string) => (specifier.startsWith('.') ? relative(packageRoot, resolve(packageRoot, dirname(file), specifier)) : specifier);

describe('platform boundaries', () => {
  it('no platform folder mentions examples/', () => {
    for (const folder of platformFolders) {
      for (const { file, text } of sources(folder)) assert.doesNotMatch(text, /examples\//, file);
    }
  });

  it('no platform folder imports examples/ or test/support/', () => {
    for (const folder of platformFolders) {
      for (const { file, text } of sources(folder)) {
        for (const specifier of modulesOf(text)) {
          assert.doesNotMatch(targetOf(file, specifier), /^(examples|test\/support)\//, `${file} imports ${specifier}`);
        }
      }
    }
  });

  it('no platform folder names the example app (the word "shop", in any case)', () => {
    for (const folder of platformFolders) {
      for (const { file, text } of sources(folder)) {
        const line = text.split('\n').findIndex((candidate) => /shop/i.test(candidate));
        assert.equal(line, -1, `${file}:${String(line + 1)} names the shop`);
      }
    }
  });

  it('only the Kafka adapter (shared/kafka/kafkajs-*) imports the Kafka client', () => {
    for (const folder of platformFolders) {
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
