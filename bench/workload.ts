/**
 * What the bench asks of the app it measures, and finding both. The bench knows no
 * app: it loads the app as `strata start` does (app/load-app.ts, the same rule and
 * function), and beside it the app's workload, a module that says which commands the
 * write load sends, which event logs the projection and read scenarios append, and
 * which projections and reads they watch.
 *
 * The workload module is named in package.json beside the app, `"strata": { "app": …,
 * "benchWorkload": "./dist/…/workload.js" }`, relative to that file: one place names
 * both, and the app module, which every role loads in production, carries nothing of
 * the bench. Its default export (or its export named `workload`) is a Workload.
 */
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { App } from '../app/define-app.js';
import { loadApp, projectPackage } from '../app/load-app.js';
import type { EventEnvelope } from '../shared/event-envelope.js';

/** A command as the bench sends it: `POST /commands/{type}` with `{ aggregateId, data }`. */
export interface WorkloadCommand {
  type: string;
  aggregateId: string;
  data: unknown;
}

/** A deterministic, endless log of events the app's write side could have committed. */
export type EventLog = Iterator<EventEnvelope, never>;

/** The reads of the read scenario, drawn from the events appended so far. */
export interface ReadRequests {
  /** Takes note of an event as it is appended. */
  observe(event: EventEnvelope): void;
  /** What the read models hold, for the progress line ("… orders, … items"). */
  held(): string;
  /** The i-th by-key read and the i-th search: a GET of the query service. */
  byKey(i: number): { path: string };
  search(i: number): { path: string };
}

export interface Workload {
  /** The roles of the bench's user: its token carries them when --auth is on. */
  roles: readonly string[];
  /** The write scenario, on Strata and on its peer alike. */
  write: {
    /** The commands that make the `count` aggregates the load works on, sent before it (not measured). */
    setup(count: number): WorkloadCommand[];
    /** The type of every command of the load (the stage breakdown reads the traces of this type). */
    commandType: string;
    /** The i-th command of the load over those `count` aggregates. */
    command(i: number, count: number): { aggregateId: string; data: unknown };
  };
  /** The lag scenario: the time from an event's append to its aggregate being visible to a reader. */
  lag: {
    events(): EventLog;
    /** Whether an event's visibility is timed. */
    sampled(event: EventEnvelope): boolean;
    /** The Redis projection (polled for the event's aggregate at its version) and the Elasticsearch projection (searched by aggregate id). */
    redis: string;
    elasticsearch: string;
  };
  /** The log the catch-up and replay scenarios pre-fill, and what they project from it. */
  prefill: {
    events(): EventLog;
    /** The projections of each catch-up run, run together (--only names one, joined with '+'). */
    catchUpRuns: readonly (readonly string[])[];
    /** The projections replayed when --only names none. */
    replayed: readonly string[];
    /** The event types that have evolved since their first version, as --help names them. */
    evolvedTypes: string;
    /** An event as the first version of its type wrote it; any other event as it is (the same object). */
    asFirstWritten(event: EventEnvelope): EventEnvelope;
  };
  /** The read scenario: its log, and its reads over what the log holds. */
  read: {
    events(): EventLog;
    requests(): ReadRequests;
  };
}

/** The app the bench measures, and its workload. */
export interface AppWorkload {
  app: App;
  workload: Workload;
}

/** The workload module's path, from package.json's "strata" object (its "benchWorkload", relative to that file). */
function workloadModulePath(cwd: string): string {
  const found = projectPackage(cwd);
  const field = found?.json.strata;
  const named = typeof field === 'object' && field !== null ? (field as { benchWorkload?: unknown }).benchWorkload : undefined;
  if (found === undefined || typeof named !== 'string' || named === '') {
    throw new Error('no bench workload: name its module in package.json as "strata": { "app": …, "benchWorkload": "./dist/…/workload.js" }');
  }
  return resolve(dirname(found.file), named);
}

const isWorkload = (value: unknown): value is Workload =>
  typeof value === 'object' && value !== null && ['roles', 'write', 'lag', 'prefill', 'read'].every((key) => key in value);

/** The app as `strata start` finds it from `cwd`, and its workload. */
export async function loadAppWorkload(cwd: string = process.cwd()): Promise<AppWorkload> {
  const { app } = await loadApp(undefined, cwd);
  const workloadModule = workloadModulePath(cwd);
  const exports = (await import(pathToFileURL(workloadModule).href)) as Record<string, unknown>;
  const workload = exports.default ?? exports.workload;
  if (!isWorkload(workload)) throw new Error(`bench workload module ${workloadModule} exports no workload (export default { roles, write, lag, prefill, read })`);
  return { app, workload };
}
