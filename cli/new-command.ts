/**
 * `strata new <name>`: a new project with an app of its own, from templates/app:
 * one aggregate, a Redis and an Elasticsearch projection, the queries over them, a
 * given/when/then test of each, and a README with the two commands. The new project
 * gets Strata the way the project it is run from does (its "strata" dependency), or
 * from this very Strata's folder when run from a clone; --strata overrides.
 * A bad name or a folder that exists and is not empty is refused, nothing written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Command } from 'commander';
import validatePackageName from 'validate-npm-package-name';
import { OperatorError } from '../shared/errors.js';
import { packageFile, packageRoot } from '../shared/package-files.js';
import { projectPackage } from '../app/load-app.js';
import { action, exitCodes } from './command-runner.js';

const templateDir = packageFile('appTemplate');
// npm leaves files named .gitignore out of a package: the template keeps it as gitignore.
const renamed: Record<string, string> = { gitignore: '.gitignore' };

interface StrataPackage {
  version: string;
  devDependencies: Record<string, string>;
}

/** The project's own Strata dependency, made absolute when it is a path. */
function strataDependencyOf(cwd: string): string | undefined {
  const found = projectPackage(cwd);
  const spec = (found?.json.dependencies as Record<string, string> | undefined)?.strata;
  if (found === undefined || spec === undefined) return undefined;
  const path = spec.startsWith('file:') ? spec.slice('file:'.length) : undefined;
  return path === undefined ? spec : `file:${resolve(dirname(found.file), path)}`;
}

/** An app name from a package name: no scope, lower-case letters, digits and dashes. */
const appNameOf = (packageName: string) =>
  (packageName.split('/').pop() ?? packageName).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '') || 'app';

function templateFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

export function newCommand(): Command {
  return new Command('new')
    .description('create a project with an app of its own (an aggregate, two projections, queries, tests)')
    .argument('<name>', 'the package name; the project is made in a folder of that name')
    .option('--dir <folder>', 'make it in this folder instead (it must not exist, or be empty)')
    .option('--strata <spec>', 'how the project depends on Strata: a version, a tarball (file:strata-0.1.0.tgz) or a folder')
    .addHelpText(
      'after',
      `
Then:
  cd <name> && npm install
  npm start          the local stack and every role of the app
  npm test           the app's given/when/then tests

Examples:
  strata new my-app
  strata new @acme/orders --dir orders --strata file:../strata-0.1.0.tgz`,
    )
    .action(
      action((name: string, options: { dir?: string; strata?: string }) => {
        const valid = validatePackageName(name);
        if (!valid.validForNewPackages) {
          const reasons = [...(valid.errors ?? []), ...(valid.warnings ?? [])].join('; ');
          throw new OperatorError(`"${name}" is not a valid package name: ${reasons}`, 'usage', 'use lower-case letters, digits and dashes, e.g. my-app');
        }
        const target = resolve(options.dir ?? basename(name));
        if (existsSync(target) && readdirSync(target).length > 0) {
          throw new OperatorError(`${target} exists and is not empty; nothing was written`, 'usage', 'choose another name, or --dir <an empty or new folder>');
        }
        const strata = JSON.parse(readFileSync(packageFile('manifest'), 'utf8')) as StrataPackage;
        const fromClone = !packageRoot.split(sep).includes('node_modules');
        const spec = options.strata ?? strataDependencyOf(process.cwd()) ?? (fromClone ? `file:${packageRoot.replace(/\/$/, '')}` : `^${strata.version}`);
        const values: Record<string, string> = {
          __PACKAGE_NAME__: name,
          __APP_NAME__: appNameOf(name),
          __STRATA_SPEC__: spec,
          __TYPES_NODE__: strata.devDependencies['@types/node'] ?? '^20',
          __TYPESCRIPT__: strata.devDependencies.typescript ?? '~5.9',
        };
        for (const file of templateFiles(templateDir)) {
          const text = readFileSync(join(templateDir, file), 'utf8').replace(/__[A-Z_]+__/g, (key) => values[key] ?? key);
          const to = join(target, renamed[file] ?? file);
          mkdirSync(dirname(to), { recursive: true });
          writeFileSync(to, text);
        }
        const where = relative(process.cwd(), target) || '.';
        process.stdout.write(
          `created ${name} in ${target} (Strata: ${spec})\n\nnext:\n  cd ${where}\n  npm install\n  npm start     the local stack and every role of the app\n  npm test      its tests\n`,
        );
        return Promise.resolve(exitCodes.ok);
      }),
    );
}
