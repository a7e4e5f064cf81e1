/**
 * How the write benchmark measures CPU, for Strata and its peer alike: idle percent
 * of one core, and CPU milliseconds per accepted command at a rate, by process and
 * for the load generator. One implementation for both, so their figures compare.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds } from '../infra/stack/process-control.js';
import { runOpenLoop, type LoadOptions, type LoadResult } from './open-loop.js';

/** A process (or a group of processes, PostgreSQL's) whose CPU time is read by name. */
export interface CpuMeter {
  name: string;
  /** CPU time (user + system) used so far, in seconds. */
  seconds: () => number;
}

/** The meter of one process; a process gone reads 0. */
export const processMeter = ({ name, pid }: { name: string; pid: number }): CpuMeter => ({ name, seconds: () => cpuSeconds(pid) ?? 0 });

const read = (meters: readonly CpuMeter[]) => meters.map((meter) => meter.seconds());

/** Percent of one core each meter used over `seconds`. */
export async function cpuPercent(meters: readonly CpuMeter[], seconds: number): Promise<Record<string, number>> {
  const before = read(meters);
  const started = performance.now();
  await sleep(seconds * 1000);
  const after = read(meters);
  const elapsed = (performance.now() - started) / 1000;
  return Object.fromEntries(meters.map(({ name }, index) => [name, Math.round((((after[index] ?? 0) - (before[index] ?? 0)) / elapsed) * 1000) / 10]));
}

export interface RateMeasurement {
  result: LoadResult;
  /** CPU milliseconds per accepted command, by meter, and the load generator's (this process). */
  cpuMsPerCommand: Record<string, number>;
  /** The measured interval, in ms since the epoch (for the traces sampled in it). */
  measuredFrom: number;
  measuredTo: number;
}

/**
 * One rate: `warmupSeconds` of the same load first (unmeasured), then `load` measured,
 * with the CPU every meter and the load generator used over it.
 */
export async function measureRate(load: LoadOptions, warmupSeconds: number, meters: readonly CpuMeter[]): Promise<RateMeasurement> {
  await runOpenLoop({ ...load, seconds: warmupSeconds });
  const cpuBefore = read(meters);
  const generatorBefore = process.cpuUsage();
  const measuredFrom = Date.now();
  const result = await runOpenLoop(load);
  const measuredTo = Date.now();
  const generator = process.cpuUsage(generatorBefore);
  const cpuAfter = read(meters);
  const accepted = Math.max(1, result.statuses[String(load.accepted)] ?? 0);
  const perCommand = (seconds: number) => Math.round((seconds * 1_000_000) / accepted) / 1000;
  const cpuMsPerCommand = {
    ...Object.fromEntries(meters.map(({ name }, index) => [name, perCommand((cpuAfter[index] ?? 0) - (cpuBefore[index] ?? 0))])),
    'load generator': perCommand((generator.user + generator.system) / 1_000_000),
  };
  return { result, cpuMsPerCommand, measuredFrom, measuredTo };
}
