import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: idle and iowait are the idle ones.
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);

  return { busy: total - idle, total };
}

/**
 * How busy the machine's CPUs are without the benchmark, as a fraction of all of them over a
 * short window. The server and the load tool share the machine, so anything else running
 * skews every figure; the results say how much there was.
 */
export async function backgroundLoad(windowMs = 1_000): Promise<number> {
  const before = cpuTimes();
  await sleep(windowMs);
  const after = cpuTimes();

  return (after.busy - before.busy) / Math.max(1, after.total - before.total);
}

/** The one-minute load average. */
export function loadAverage(): number {
  return loadavg()[0] ?? 0;
}
