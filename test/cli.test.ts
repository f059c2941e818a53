import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createTokenService } from '../src/auth/jwt.js';
import { TEST_JWT_SECRET } from './support/server.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const run = promisify(execFile);

describe('the pulse command', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pulse-cli-'));
    env = {
      ...process.env,
      DATA_DIR: dataDir,
      DATABASE_URL: `sqlite:${join(dataDir, 'pulse.db')}`,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_TOKEN: 'cli-test-service-token',
      LOG_LEVEL: 'info',
      PORT: '0',
    };
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  function pulse(...args: string[]) {
    return run(process.execPath, ['--import', 'tsx', CLI, ...args], { env, timeout: 30_000 });
  }

  test('adds a user and prints it as JSON, then prints a token for it', async () => {
    const added = await pulse('user', 'add', '--email', 'Cli@Example.com', '--name', 'Cli');
    const user = JSON.parse(added.stdout);
    const byEmail = await pulse('token', 'cli@example.com');
    const byId = await pulse('token', user.id, '--expires', '1h');

    assert.match(user.id, /^[0-9a-f]{24}$/);
    assert.equal(user.email, 'cli@example.com');
    assert.equal(typeof user.generatedPassword, 'string');
    const tokens = createTokenService(TEST_JWT_SECRET);
    assert.equal((await tokens.verify(byEmail.stdout.trim())).userId, user.id);
    const verified = await tokens.verify(byId.stdout.trim());
    assert.ok(verified.expiresAt! - Date.now() / 1000 <= 3600);
  });

  test('fails with one clear line for an unknown user or a bad setting', async () => {
    await assert.rejects(pulse('token', 'nobody@example.com'), (error: any) => {
      assert.match(error.stderr, /no user with id or email/);
      return error.code === 1;
    });
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
        env: { ...env, PORT: 'eighty' },
        timeout: 30_000,
      }),
      (error: any) => {
        assert.equal(error.stderr.trim().split('\n').length, 1);
        assert.match(error.stderr, /^pulse: invalid configuration: PORT: /);
        return error.code === 1;
      },
    );
  });

  test('serves until SIGTERM and exits cleanly', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], { env });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    try {
      const deadline = Date.now() + 20_000;
      while (!output.includes('pulse listening') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const line = output.split('\n').find((entry) => entry.includes('pulse listening'));
      assert.ok(line, `no listening line in: ${output}`);
      const { url } = JSON.parse(line);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.ok(output.includes('open a stream'), 'the log says how to open a stream');

      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
