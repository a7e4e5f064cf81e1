/**
 * The requests of the write benchmark, the same for Strata's gateway and for its
 * peer: the workload's setup commands (the aggregates the load works on), sent before
 * the load, and the load's commands, which the open loop sends.
 */
import type { Workload } from './workload.js';

/** Sends the setup commands of `count` aggregates through `url`'s POST /commands/{type}, 50 at a time; any answer but 200 fails. */
export async function sendSetup(url: string, workload: Workload, count: number, headers: Record<string, string>): Promise<void> {
  const commands = workload.write.setup(count);
  for (let i = 0; i < commands.length; i += 50) {
    await Promise.all(
      commands.slice(i, i + 50).map(async ({ type, aggregateId, data }) => {
        const response = await fetch(`${url}/commands/${type}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ aggregateId, data }),
        });
        if (response.status !== 200) throw new Error(`${type} ${aggregateId}: ${response.status} ${await response.text()}`);
      }),
    );
  }
}

/** The i-th request of the load over `count` aggregates: the workload's i-th command. */
export const loadRequest = (workload: Workload, count: number) => (i: number) => {
  const { aggregateId, data } = workload.write.command(i, count);
  return { path: `/commands/${workload.write.commandType}`, body: JSON.stringify({ aggregateId, data }) };
};
