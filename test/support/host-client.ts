/**
 * The client host of the hosts test (test/integration/hosts-netns.test.ts), run there
 * as `node host-client.js '<plan as JSON>'`: it waits for the gateway to be ready,
 * offers an open-loop load of Increment commands, reads the gateway's direct and topic
 * route counters around it, reads a counter back from the query service, and calls
 * each processor's PartitionOwner service as a forger would (no internal credential),
 * then asks the gateway to increment the counters forged, whose first version shows
 * whether the forged call decided anything. It prints what it saw as JSON; the test
 * judges.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { runOpenLoop } from '../../bench/open-loop.js';
import { defaultTenant } from '../../shared/auth/principal.js';
import { partitionOfAggregate } from '../../shared/topics.js';
import { loadPartitionOwnerService } from '../../write-side/direct-route.js';

export interface ClientPlan {
  gateway: string;
  query: string;
  /** A partition each processor serves, at the address it advertises. */
  owners: { address: string; partition: number }[];
  partitions: number;
  rate: number;
  seconds: number;
}

export interface ClientReport {
  /** Answers to the load, by HTTP status. */
  statuses: Record<string, number>;
  sent: number;
  /** The gateway's strata_command_routes_total over the load. */
  routes: { direct: number; topic: number };
  /** A counter incremented after the load, as the query service reads it with the write's consistency token. */
  readBack: { status: number; value?: number; expected: number; answer: string };
  forged: { address: string; code?: number; details?: string; firstVersionAfter?: number }[];
}

const plan = JSON.parse(process.argv[2] ?? '{}') as ClientPlan;
const counters = 40;

async function waitReady(url: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const status = await fetch(`${url}/readyz`).then((answer) => answer.status, () => 0);
    if (status === 200) return;
    await sleep(250);
  }
  throw new Error(`${url}/readyz did not answer 200 within 60 s`);
}

async function routes(): Promise<{ direct: number; topic: number }> {
  const text = await (await fetch(`${plan.gateway}/metrics`)).text();
  const count = (route: string) => Number(new RegExp(`^strata_command_routes_total\\{route="${route}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { direct: count('direct'), topic: count('topic') };
}

async function increment(aggregateId: string): Promise<{ status: number; version?: number; consistencyToken?: string }> {
  const answer = await fetch(`${plan.gateway}/commands/Increment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aggregateId, data: { by: 1 } }) });
  return { status: answer.status, ...((await answer.json()) as { version?: number; consistencyToken?: string }) };
}

/** A command for `partition` that its owner would decide, sent without the internal credential. */
function forge(address: string, partition: number): Promise<{ aggregateId: string; error: grpc.ServiceError | null }> {
  let n = 0;
  while (partitionOfAggregate(defaultTenant, `forged-${String(n)}`, plan.partitions) !== partition) n++;
  const aggregateId = `forged-${String(n)}`;
  const command = {
    commandId: randomUUID(),
    commandType: 'Increment',
    tenant: defaultTenant,
    aggregateType: 'Counter',
    aggregateId,
    data: { by: 1 },
    correlationId: randomUUID(),
    submittedAt: new Date().toISOString(),
    principal: { subject: 'someone-on-the-client-host', tenant: defaultTenant, roles: ['admin'], scopes: [] },
  };
  const PartitionOwner = loadPartitionOwnerService();
  const owner = new PartitionOwner(address, grpc.credentials.createInsecure());
  type Decide = (request: { partition: number; commands_json: Buffer }, callback: (error: grpc.ServiceError | null) => void) => void;
  return new Promise((resolve) => {
    (owner as unknown as { Decide: Decide }).Decide({ partition, commands_json: Buffer.from(JSON.stringify([{ command }])) }, (error) => {
      owner.close();
      resolve({ aggregateId, error });
    });
  });
}

await waitReady(plan.gateway);
const before = await routes();
const load = await runOpenLoop({
  url: plan.gateway,
  rate: plan.rate,
  seconds: plan.seconds,
  request: (i) => ({ path: '/commands/Increment', body: JSON.stringify({ aggregateId: `load-${String(i % counters)}`, data: { by: 1 } }) }),
  accepted: 200,
});
const after = await routes();

const last = await increment('load-0');
const read = await fetch(`${plan.query}/counters/load-0`, { headers: { 'x-consistency-token': last.consistencyToken ?? '' } });
const answer = (await read.json()) as { value?: number };
const readBack = { status: read.status, value: answer.value, expected: last.version ?? -1, answer: JSON.stringify(answer) };

const forged: ClientReport['forged'] = [];
for (const { address, partition } of plan.owners) {
  const { aggregateId, error } = await forge(address, partition);
  forged.push({ address, code: error?.code, details: error?.details, firstVersionAfter: (await increment(aggregateId)).version });
}

const report: ClientReport = { statuses: load.statuses, sent: load.sent, routes: { direct: after.direct - before.direct, topic: after.topic - before.topic }, readBack, forged };
process.stdout.write(`${JSON.stringify(report)}\n`);
