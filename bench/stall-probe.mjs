// Watches for the machine itself standing still. Ticks of a 1 ms timer that come STALL_MS or
// more apart mean this process was not run meanwhile; when the cores are mostly idle (the
// fixed-rate phases), that is the machine (its hypervisor or kernel), not the code under test.
// Each such gap is written to stdout as "<when it ended, ms since the epoch> <its length, ms>".
// Plain JavaScript, so the probe is small and starts at once.
const STALL_MS = 10;

let last = performance.now();

setInterval(() => {
  const now = performance.now();
  const gap = now - last;
  last = now;
  if (gap >= STALL_MS) process.stdout.write(`${performance.timeOrigin + now} ${gap.toFixed(1)}\n`);
}, 1);

// The coordinator's end closes the pipe: the probe goes with it.
process.stdout.on('error', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
