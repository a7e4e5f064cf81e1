/**
 * Which app the CLI runs, and loading it. The rule: `--app <module>` (a path,
 * relative to the working directory) when given; otherwise the `strata.app` field
 * of the nearest package.json from the working directory up (relative to that
 * file). The module's default export, or its export named `app`, must be an app
 * made with defineApp. Anything else stops with an AppDefinitionError naming the
 * module and what is wrong with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectDir } from '../shared/config.js';
import { AppDefinitionError } from '../shared/errors.js';
import { isApp, type App } from './define-app.js';

export interface LoadedApp {
  app: App;
  /** The module's absolute path, to hand to child processes. */
  module: string;
}

/** The project's package.json (in shared/config.ts's projectDir), parsed; undefined when there is none. */
export function projectPackage(cwd: string = process.cwd()): { file: string; json: Record<string, unknown> } | undefined {
  const file = join(projectDir(cwd), 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    return { file, json: JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> };
  } catch (error) {
    throw new AppDefinitionError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The app module's path by the rule above, or undefined when neither names one. */
export function appModulePath(flag: string | undefined, cwd: string = process.cwd()): string | undefined {
  if (flag !== undefined) return resolve(cwd, flag);
  const found = projectPackage(cwd);
  const field = found?.json.strata;
  if (found === undefined || field === undefined) return undefined;
  const app = typeof field === 'object' && field !== null ? (field as { app?: unknown }).app : undefined;
  if (typeof app !== 'string' || app === '') {
    throw new AppDefinitionError(`${found.file}: "strata" must be an object whose "app" names the app module, e.g. { "app": "./dist/app.js" }`);
  }
  return resolve(dirname(found.file), app);
}

export async function loadApp(flag: string | undefined, cwd: string = process.cwd()): Promise<LoadedApp> {
  const module = appModulePath(flag, cwd);
  if (module === undefined) {
    throw new AppDefinitionError('no app to run: pass --app <module>, or name it in package.json as "strata": { "app": "./dist/app.js" }');
  }
  if (!existsSync(module)) throw new AppDefinitionError(`app module ${module} does not exist (is the project built?)`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(module).href)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof AppDefinitionError) throw new AppDefinitionError(`app module ${module}: ${error.message}`);
    throw new AppDefinitionError(`app module ${module} failed to load: ${(error as Error).message}`);
  }
  const app = exports.default ?? exports.app;
  if (!isApp(app)) throw new AppDefinitionError(`app module ${module} exports no app: export default defineApp({ … }) (or export const app)`);
  return { app, module };
}
