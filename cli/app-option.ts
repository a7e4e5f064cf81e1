/**
 * `--app <module>`: the app a command works on, for every command that needs one
 * (app/load-app.ts has the rule when it is not given).
 */
import { Option } from 'commander';
import { loadApp, type LoadedApp } from '../app/load-app.js';

export const appOption = () => new Option('--app <module>', 'the app module (default: "strata": {"app": …} in the nearest package.json)');

export const appOf = (options: { app?: string }): Promise<LoadedApp> => loadApp(options.app);
