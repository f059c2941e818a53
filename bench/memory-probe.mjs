// Preloaded into a server under test (node --expose-gc --import ./bench/memory-probe.mjs …) so
// the benchmark can read its heap: on SIGUSR2 it collects garbage, so only live objects count,
// and writes process.memoryUsage() to BENCH_MEMORY_PROBE_FILE. Plain JavaScript, because
// loading a TypeScript hook into Pulse would change the process being measured.
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.BENCH_MEMORY_PROBE_FILE;

if (file) {
  let reads = 0;
  process.on('SIGUSR2', () => {
    // Two passes: the first can leave objects whose finalizers free more.
    globalThis.gc?.();
    globalThis.gc?.();
    reads += 1;
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]),
    );
    writeFileSync(file, JSON.stringify({ reads, ...process.memoryUsage(), spaces }));
  });
}
