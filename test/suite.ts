/**
 * `npm test`: the whole suite against the real local stack.
 *
 * Brings the stack up if it is not (servers already running are used as they
 * are), runs every test file with Node's test runner, then stops only the
 * servers this run started. The exit code is the test runner's.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withStack } from '../infra/stack/with-stack.js';

const testsDir = fileURLToPath(new URL('.', import.meta.url));
// The examples' own tests (dist/examples/*/test) run too.
const examplesDir = fileURLToPath(new URL('../examples/', import.meta.url));

function testFiles(): string[] {
  return [testsDir, examplesDir].flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.test.js'))
      .sort()
      .map((file) => join(dir, file)),
  );
}

function runTests(files: string[]): Promise<number> {
  const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code, signal) => { resolve(code ?? (signal ? 130 : 1)); }));
}

// Ctrl-C reaches the test runner too; this process waits for it, then cleans up.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);

process.exit(await withStack(() => runTests(testFiles())));
