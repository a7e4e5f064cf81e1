/**
 * docs/building-an-app.md cannot rot: its TypeScript blocks are written, in order, into a
 * project made by `strata new`, which is compiled after each section; the project's tests
 * then run and its app loads; every `strata` command the tutorial shows exists with the
 * options it uses, and every npm script it runs is the project's.
 *
 * The project lives under the git-ignored .strata/ without a package.json of its own, so
 * that `strata` resolves to this repository (a package may import itself by name).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { loadApp } from '../../app/load-app.js';
import { packageRoot } from '../../shared/package-files.js';

const tutorial = readFileSync(join(packageRoot, 'docs', 'building-an-app.md'), 'utf8');
const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const project = join(packageRoot, '.strata', 'tutorial-check');
const { NODE_TEST_CONTEXT: _runner, ...env } = process.env;

interface Block {
  section: string;
  language: string;
  file?: string;
  code: string;
}

function blocks(): Block[] {
  const found: Block[] = [];
  let section = '';
  for (const part of tutorial.split(/^(?=## )/m)) {
    section = part.split('\n')[0] ?? section;
    for (const match of part.matchAll(/^```(\w+)(?: file=(\S+))?\n([\s\S]*?)^```$/gm)) {
      found.push({ section, language: match[1] ?? '', ...(match[2] === undefined ? {} : { file: match[2] }), code: match[3] ?? '' });
    }
  }
  return found;
}

function run(command: string, args: string[], cwd = project) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the tutorial (docs/building-an-app.md)', () => {
  it('compiles section by section in a new project, whose tests pass and whose app loads', { timeout: 180_000 }, async () => {
    rmSync(project, { recursive: true, force: true });
    mkdirSync(dirname(project), { recursive: true });
    const made = run(process.execPath, [cli, 'new', 'my-app', '--dir', project], packageRoot);
    assert.equal(made.status, 0, made.output);
    rmSync(join(project, 'package.json'));
    const tsc = join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const sections = [...new Set(blocks().filter((block) => block.file !== undefined).map((block) => block.section))];
    assert.ok(sections.length >= 4, 'a second aggregate, a search, a saga, a replay');
    for (const section of sections) {
      for (const block of blocks().filter((candidate) => candidate.section === section && candidate.file !== undefined)) {
        mkdirSync(dirname(join(project, block.file ?? '')), { recursive: true });
        writeFileSync(join(project, block.file ?? ''), block.code);
      }
      const compiled = run(process.execPath, [tsc, '-p', project]);
      assert.equal(compiled.status, 0, `${section}\n${compiled.output}`);
    }
    const testDir = join(project, 'dist', 'test');
    const testFiles = readdirSync(testDir).filter((file) => file.endsWith('.test.js')).map((file) => join(testDir, file));
    const tests = run(process.execPath, ['--test', '--test-reporter=tap', ...testFiles]);
    assert.equal(tests.status, 0, tests.output);
    assert.match(tests.output, /# pass ([5-9]|\d\d)/);

    const { app } = await loadApp(join(project, 'dist', 'src', 'app.js'));
    assert.deepEqual(app.domain.commandTypes, ['AddTask', 'CompleteTask', 'CreateProject', 'ArchiveProject']);
    assert.deepEqual(app.queries.map((query) => query.name), ['getTask', 'searchTasks', 'searchProjects']);
    assert.deepEqual(app.sagas({ MY_APP_PLANNING: 'off' }), []);
    assert.equal(app.sagas({}).length, 1);
  });

  it('shows only strata commands and options that exist, and npm scripts the project has', () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(packageRoot, 'templates', 'app', 'package.json'), 'utf8')) as { scripts: object }).scripts);
    const lines = blocks()
      .filter((block) => block.language === 'sh')
      .flatMap((block) => block.code.split('\n'))
      .map((line) => line.replace(/\s+#.*$/, '').trim());
    const strataLines = lines.filter((line) => /^(npx )?strata /.test(line));
    assert.ok(strataLines.length >= 5);
    for (const line of strataLines) {
      const args = line.replace(/^(npx )?strata /, '').split(/\s+/);
      const help = spawnSync(process.execPath, [cli, ...args, '--help'], { encoding: 'utf8' });
      assert.equal(help.status, 0, line);
      for (const option of args.filter((arg) => arg.startsWith('--'))) assert.ok(help.stdout.includes(option), `${line}: ${option}`);
    }
    for (const line of lines.filter((candidate) => candidate.startsWith('npm '))) {
      const script = /^npm (?:run )?(\S+)/.exec(line)?.[1] ?? '';
      assert.ok(script === 'install' || scripts.includes(script), `${line}: the project has no script ${script}`);
    }
  });
});
