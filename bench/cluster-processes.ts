import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every process the cluster bench started and that has not exited yet. */
export const children = new Set<ChildProcess>();

/** The settings every Pulse of the cluster bench runs with, besides its own. */
export interface InstanceSettings {
  secret: string;
  serviceToken: string;
  env: Record<string, string>;
}

/** A free TCP port of 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));

  return typeof address === 'object' && address ? address.port : 0;
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));

  return child;
}

/** Kills a child by pid and waits until it is gone. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

/** Polls `check` every 10 ms; throws after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A private redis-server on a free port, keeping nothing on disk. */
export async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = track(spawn('redis-server', args, { stdio: 'ignore' }));
  await waitUntil(() => canConnect(port), 10_000, 'redis-server');

  return { url: `redis://127.0.0.1:${port}`, child };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `pulse serve` in production mode with every limit off; resolves once /healthz answers. */
export async function startInstance(
  settings: InstanceSettings,
): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        JWT_SECRET: settings.secret,
        SERVICE_TOKEN: settings.serviceToken,
        LOG_LEVEL: 'warn',
        MAX_STREAMS_PER_USER: '0',
        MAX_CONNECTIONS: '0',
        EMIT_RATE_LIMIT: '0',
        EMIT_RATE_LIMIT_PER_USER: '0',
        CLUSTER_HEARTBEAT_MS: '1000',
        ...settings.env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const healthy = () =>
    fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  await waitUntil(healthy, 30_000, `pulse on port ${port}`);

  return { url, pid: child.pid! };
}

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat, in ticks). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');

  return (Number(fields[11]) + Number(fields[12])) / 100;
}
