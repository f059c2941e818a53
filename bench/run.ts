/**
 * `npm run bench`: measures Pulse, the naive design (bench/naive-server.ts) and the ceiling of
 * Node (bench/ceiling-server.ts) side by side, prints every run as one JSON line and a table,
 * and writes bench/RESULTS.md. See bench/README.md.
 *
 * BENCH_SCALE (default 1) scales stream and event counts, for quick checks while developing;
 * BENCH_RUNS (default 3) sets the runs per scenario; BENCH_ONLY=connect,fanout picks scenarios;
 * BENCH_KEEP_LOGS=1 keeps the servers' logs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAll, killChildrenOnExit } from './lib/children.js';
import { Harness } from './lib/harness.js';
import type { RunRecord } from './lib/records.js';
import { scenarioTables, summarizeRuns } from './lib/report.js';
import { StallProbe } from './lib/stall-probe.js';
import { machineDescription, renderResults } from './lib/results-file.js';
import { backgroundLoad, loadAverage } from './lib/machine-load.js';
import { checkTargets } from './lib/targets.js';
import { createUsers, seedUsers } from './lib/users.js';
import { Worker } from './lib/workers.js';
import { measureBroadcast } from './scenarios/broadcast.js';
import { measureCeiling } from './scenarios/ceiling.js';
import { measureConnect } from './scenarios/connect.js';
import { measureEmit } from './scenarios/emit.js';
import { measureFanout } from './scenarios/fanout.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
const scaled = (count: number) => Math.max(1, Math.round(count * scale));

// Sized to finish within 10 minutes on a 2-core machine; the stream counts are the issue's.
const PLAN = {
  runs,
  clientWorkers: 4,
  connect: { streams: scaled(15_000), users: scaled(5_000) },
  fanout: {
    streams: scaled(5_000),
    emits: scaled(20_000),
    concurrency: 32,
    fixedRate: 1_000,
    fixedEmits: scaled(3_000),
    runs,
  },
  broadcast: {
    tabs: scaled(10_000),
    tabEmits: 40,
    tabConcurrency: 4,
    tabPacedEmits: 20,
    tabPacedRate: 10,
    users: scaled(10_000),
    userEmits: scaled(20_000),
    userConcurrency: 32,
    runs,
  },
  emit: { seconds: 4, connections: 50, users: 1_000, runs },
  ceiling: { sockets: scaled(10_000), singleEvents: 40, batchedEvents: 200, batch: 10, runs },
};

// A hard stop: whatever hangs, the run ends and takes its children with it.
const WHOLE_RUN_LIMIT_MS = 15 * 60_000;
const API_USERS = 16;
const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

function wanted(scenario: string): boolean {
  return !only || only.includes(scenario);
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function report(records: RunRecord[], added: RunRecord[]): void {
  for (const record of added) {
    records.push(record);
    process.stdout.write(`${JSON.stringify(record)}\n`);
  }
}

// A few users through the route, so the run proves it works; the rest written by Pulse's store.
async function setUpUsers(harness: Harness, count: number): Promise<string[]> {
  const seeded = await seedUsers(join(harness.workDir, 'pulse.db'), count - API_USERS);
  const server = await harness.startServer('pulse');
  try {
    const created = await createUsers(server.port, harness.secrets.serviceToken, API_USERS, 4);
    return [...created, ...seeded];
  } finally {
    await server.stop();
  }
}

async function runScenarios(harness: Harness, userIds: string[], records: RunRecord[]) {
  if (wanted('connect')) {
    // Servers alternate run by run, so a drift in the machine touches all alike.
    for (let run = 1; run <= PLAN.runs; run += 1) {
      for (const kind of ['pulse', 'naive', 'floor'] as const) {
        progress(`connect ${kind} run ${run}`);
        report(records, [await measureConnect(harness, kind, userIds, PLAN.connect, run)]);
      }
    }
  }
  for (const kind of ['pulse', 'naive'] as const) {
    if (wanted('fanout')) {
      progress(`fanout ${kind}`);
      report(records, await measureFanout(harness, kind, userIds, PLAN.fanout));
    }
    if (wanted('broadcast')) {
      progress(`broadcast ${kind}`);
      report(records, await measureBroadcast(harness, kind, userIds, PLAN.broadcast));
    }
    if (wanted('emit')) {
      progress(`emit ${kind}`);
      report(records, await measureEmit(harness, kind, userIds, PLAN.emit));
    }
  }
  // The bare node:http floor: how fast any Node server can open streams and answer emits here.
  if (wanted('emit')) {
    progress('emit floor');
    report(records, await measureEmit(harness, 'floor', userIds, PLAN.emit));
  }
  if (wanted('ceiling')) {
    progress('ceiling');
    report(records, await measureCeiling(harness, PLAN.ceiling));
  }
}

async function main(): Promise<void> {
  process.chdir(repositoryRoot);
  if (!existsSync('dist/cli/main.js')) throw new Error('build Pulse first: npm run build');
  killChildrenOnExit();
  setTimeout(() => {
    process.stderr.write('bench: the whole run passed its time limit; stopping\n');
    killAll();
    process.exit(1);
  }, WHOLE_RUN_LIMIT_MS).unref();

  // Measured before the load tool starts, so that only other processes count.
  const load = { backgroundBefore: await backgroundLoad(), loadAverageBefore: loadAverage() };
  const startedAt = new Date();
  const workDir = mkdtempSync(join(tmpdir(), 'pulse-bench-'));
  const secrets = {
    jwtSecret: randomBytes(32).toString('hex'),
    serviceToken: randomBytes(24).toString('hex'),
  };
  const clients = Array.from({ length: PLAN.clientWorkers }, () => new Worker('client-worker'));
  const stalls = StallProbe.start();
  const harness = new Harness(clients, new Worker('emitter-worker'), secrets, workDir, stalls);
  const records: RunRecord[] = [];
  progress(`${machineDescription()}; logs in ${workDir}`);
  if (load.backgroundBefore > 0.1) {
    progress(`warning: other processes keep ${Math.round(load.backgroundBefore * 100)}% busy`);
  }

  try {
    const userCount = Math.max(PLAN.connect.users, PLAN.fanout.streams, PLAN.broadcast.users);
    const userIds = await setUpUsers(harness, userCount);
    await runScenarios(harness, userIds, records);
  } finally {
    for (const worker of [...clients, harness.emitter]) worker.stop();
    stalls.stop();
  }

  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  const machineLoad = { ...load, loadAverageAfter: loadAverage() };
  const summaries = summarizeRuns(records);
  const targets = checkTargets(summaries, records);
  process.stdout.write(`\n${scenarioTables(summaries)}\n\n`);
  for (const item of targets) {
    const verdict = item.holds === undefined ? 'n/a' : item.holds ? 'holds' : 'DOES NOT HOLD';
    process.stdout.write(`${verdict.padEnd(13)} ${item.target}: ${item.measured}\n`);
  }
  process.stdout.write(`\nbench: whole run ${seconds.toFixed(0)} s\n`);

  const command = 'npm run bench' + (process.env.BENCH_SCALE ? ` (BENCH_SCALE=${scale})` : '');
  const results = renderResults({
    command,
    startedAt,
    seconds,
    machineLoad,
    plan: PLAN,
    summaries,
    records,
    targets,
  });
  // A partial or scaled-down run must not overwrite the results of a full one.
  const file = only || scale !== 1 || runs !== 3 ? 'RESULTS.partial.md' : 'RESULTS.md';
  writeFileSync(join(repositoryRoot, 'bench', file), results);
  process.stdout.write(`bench: wrote bench/${file}\n`);
  if (!process.env.BENCH_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
