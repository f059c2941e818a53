import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_JWT_SECRET, TEST_SERVICE_TOKEN } from './server.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** A Pulse running as `pulse serve` in a child process, for tests where an instance dies. */
export interface PulseProcess {
  url: string;
  pid: number;
  /** The JSON log lines written so far, parsed. */
  logLines(): { msg: string; [field: string]: unknown }[];
  /** Ends the process at once, as a crash or an OOM kill would, and waits for it to be gone. */
  kill(): Promise<void>;
}

/**
 * Starts `node --import tsx src/cli/main.ts serve` on 127.0.0.1 and a free port, with the test
 * secrets and whatever `env` adds (REDIS_URL, DATABASE_URL, DATA_DIR…). Resolves once it
 * logs `pulse listening`; a process that does not start in time is killed.
 */
export async function startPulseProcess(env: Record<string, string>): Promise<PulseProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'development',
      PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_TOKEN: TEST_SERVICE_TOKEN,
      LOG_LEVEL: 'info',
      CLUSTER_HEARTBEAT_MS: '500',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

  const logLines = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; [field: string]: unknown });
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && child.exitCode === null) {
    const listening = logLines().find((line) => line.msg === 'pulse listening');
    if (listening) return { url: listening.url as string, pid: child.pid!, logLines, kill };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await kill();
  throw new Error(`pulse serve did not start:\n${output}`);
}
