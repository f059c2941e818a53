/**
 * Prints where a CPU profile spent its time, by function (self time), heaviest first.
 * Run: node --import tsx bench/profile-top.ts <file.cpuprofile> [rows]
 * Profiles come from BENCH_PROFILE=1 BENCH_KEEP_LOGS=1 npm run bench (see bench/README.md).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsText] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-top.ts <file.cpuprofile> [rows]\n');
  process.exit(2);
}

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
const selfMicros = new Map<string, number>();
let total = 0;

profile.samples.forEach((nodeId, index) => {
  const frame = frames.get(nodeId);
  const delta = profile.timeDeltas[index] ?? 0;
  total += delta;
  if (!frame) return;
  // Group by function and place; a long file path is cut to its last two parts.
  const where = frame.url.split('/').slice(-2).join('/');
  const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
  selfMicros.set(key, (selfMicros.get(key) ?? 0) + delta);
});

const rows = [...selfMicros].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsText ?? 30));
process.stdout.write(`total ${(total / 1e6).toFixed(2)} s sampled\n`);
for (const [key, micros] of rows) {
  const share = ((micros / total) * 100).toFixed(1).padStart(5);
  process.stdout.write(`${share}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
}
