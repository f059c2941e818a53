// Bundles the client SDK for browsers: one ES module, no dependencies, for ES2020 engines.
// Usage: node scripts/build-client.mjs [outfile]   (default dist/client/pulse-client.js)
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = process.argv[2] ?? `${root}dist/client/pulse-client.js`;

await build({
  entryPoints: [`${root}src/client/index.ts`],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
