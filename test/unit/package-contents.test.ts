/**
 * What `npm pack` puts in the tarball is what an installed Strata has: every file
 * its code reads from the package at run time (shared/package-files.ts, the one
 * place such reads go through), every module a packed module imports, and the
 * entry points of package.json. A file left out of `files` fails here, not on a
 * user's first `npm start`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { packageFiles, packageRoot } from '../../shared/package-files.js';

/** The tarball's file list, without building (the suite has just built). */
function packedFiles(): Set<string> {
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packageRoot, encoding: 'utf8', timeout: 120_000 });
  assert.equal(pack.status, 0, pack.stderr);
  const [tarball] = JSON.parse(pack.stdout) as [{ files: { path: string }[] }];
  return new Set(tarball.files.map((file) => file.path));
}

/** The files of a folder of the repository, relative to the package. */
const filesUnder = (folder: string) =>
  readdirSync(join(packageRoot, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(packageRoot, join(entry.parentPath, entry.name)));

/** Relative module specifiers of a compiled module: static imports, re-exports, dynamic imports and `new URL('./x.js', import.meta.url)`. */
const relativeImports = (text: string) =>
  [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bnew URL\(\s*)['"](\.\.?\/[^'"]+)['"]/g)].map((match) => match[1] ?? '');

const platformFolders = ['app', 'cli', 'shared', 'infra', 'write-side', 'read-side', 'projections', 'stores'];
const platformSources = platformFolders.flatMap((folder) => filesUnder(folder).filter((file) => file.endsWith('.ts')));

describe('the packed package', () => {
  const packed = packedFiles();

  it('holds every file the code reads from the package at run time', () => {
    for (const [name, path] of Object.entries(packageFiles)) {
      const wanted = path.endsWith('/') ? filesUnder(path) : [path];
      assert.ok(wanted.length > 0, `${name}: ${path} is empty in the repository`);
      for (const file of wanted) assert.ok(packed.has(file), `${name}: ${file} is read at run time and is not in the tarball (package.json "files")`);
    }
  });

  it('holds every module a packed module imports, and the entry points', () => {
    const modules = [...packed].filter((file) => file.endsWith('.js'));
    assert.ok(modules.length > 50, 'the compiled modules are packed');
    for (const file of modules) {
      for (const specifier of relativeImports(readFileSync(join(packageRoot, file), 'utf8'))) {
        const target = normalize(join(dirname(file), specifier));
        assert.ok(target.endsWith('/') || packed.has(target), `${file} imports ${specifier}, which is not in the tarball`);
      }
    }
    const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { bin: Record<string, string>; exports: Record<string, { default?: string } | string> };
    const entries = [...Object.values(manifest.bin), ...Object.values(manifest.exports).map((entry) => (typeof entry === 'string' ? entry : entry.default ?? ''))];
    for (const entry of entries) assert.ok(packed.has(normalize(entry)), `the entry point ${entry} is not in the tarball`);
  });

  it('reads its own files only through packageFile', () => {
    // new-command.ts names the package's folder as a dependency spec; it reads through packageFile.
    const allowed = new Set(['shared/package-files.ts', 'cli/new-command.ts']);
    for (const file of platformSources) {
      if (allowed.has(file)) continue;
      assert.doesNotMatch(readFileSync(join(packageRoot, file), 'utf8'), /\bpackageRoot\b/, `${file} reads the package without packageFile`);
    }
  });
});
