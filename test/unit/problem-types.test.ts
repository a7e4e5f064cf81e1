/**
 * docs/problems.md lists every problem type with its status and title, as
 * shared/errors.ts defines them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../shared/package-files.js';
import * as errors from '../../shared/errors.js';

type AnyErrorClass = new (...args: unknown[]) => errors.StrataError;

/** Every problem the code can produce: one instance of each StrataError class, and the fallback. */
function definedProblems(): { type: string; status: number; title: string }[] {
  const classes = (Object.values(errors) as unknown[]).filter(
    (value): value is AnyErrorClass => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof errors.StrataError,
  );
  const problems = classes.map((ErrorClass) => {
    const problem = errors.toProblemDetails(new ErrorClass('x', 'y', 1));
    return { type: problem.type, status: problem.status, title: problem.title };
  });
  const fallback = errors.toProblemDetails(new Error('unexpected'));
  return [...problems, { type: fallback.type, status: fallback.status, title: fallback.title }];
}

describe('problem types', () => {
  it('are each documented in docs/problems.md with their status and title, and nothing else is', () => {
    const rows = readFileSync(join(packageRoot, 'docs', 'problems.md'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    const documented = new Map(rows.map(([, type = '', status = '', title = '']) => [type.replaceAll('`', ''), { status: Number(status), title }]));
    const defined = definedProblems();
    assert.ok(defined.length >= 12, `found the error classes: ${defined.map((problem) => problem.type).join(', ')}`);
    for (const { type, status, title } of defined) {
      const name = type.replace('https://strata.dev/problems/', '');
      assert.deepEqual(documented.get(name), { status, title }, `${name} in docs/problems.md`);
    }
    assert.equal(documented.size, defined.length, 'no documented type that the code does not define');
  });
});
