import { existsSync } from 'node:fs';
import { loadConfig } from '../config.js';
import type { ResolvedConfig } from '../http/context.js';
import { resolveSecrets, type SecretsOutcome } from '../secrets.js';

/** Reads `.env` from the working folder when present; real environment variables win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

/** Configuration for a command: `.env`, then the environment, then development secrets. */
export function loadCommandConfig(): SecretsOutcome & { config: ResolvedConfig } {
  loadDotEnv();

  return resolveSecrets(loadConfig(process.env));
}

/** Writes a line to standard output. */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a line to standard error. */
export function printError(line: string): void {
  process.stderr.write(`${line}\n`);
}
