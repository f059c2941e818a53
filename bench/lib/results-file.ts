import { cpus, totalmem, release, type } from 'node:os';
import type { RunRecord } from './records.js';
import { formatNumber, ratios, scenarioTables, type Summary, type TargetCheck } from './report.js';

/** What RESULTS.md is written from. */
export interface ResultsInput {
  readonly command: string;
  readonly startedAt: Date;
  readonly seconds: number;
  readonly machineLoad: {
    backgroundBefore: number;
    loadAverageBefore: number;
    loadAverageAfter: number;
  };
  readonly plan: unknown;
  readonly summaries: readonly Summary[];
  readonly records: readonly RunRecord[];
  readonly targets: readonly TargetCheck[];
}

/** The machine, as far as the results depend on it. */
export function machineDescription(): string {
  const processors = cpus();
  const model = processors[0]?.model ?? 'unknown';
  const memory = (totalmem() / 1024 ** 3).toFixed(1);

  return (
    `${type()} ${release()}, ${processors.length} × ${model}, ${memory} GiB memory, ` +
    `Node ${process.version}`
  );
}

function verdict(holds: boolean | undefined): string {
  if (holds === undefined) return 'not measured';

  return holds ? 'holds' : '**does not hold**';
}

/** Renders bench/RESULTS.md. */
export function renderResults(input: ResultsInput): string {
  const targetRows = input.targets.map(
    (item) => `| ${item.target} | ${item.measured} | ${verdict(item.holds)} |`,
  );
  const ratioRows = Object.entries(ratios(input.summaries)).map(
    ([name, value]) => `| ${name} | ${formatNumber(value)} |`,
  );
  const noted = input.records.filter((record) => record.notes.length > 0);
  const notes = noted.map(
    (record) =>
      `- ${record.scenario} / ${record.server} run ${record.run}: ${record.notes.join('; ')}`,
  );

  return `# Benchmark results

Written by \`${input.command}\`; see [README.md](README.md) for what each scenario measures.
Server, load tool and coordinator share one machine. Figures are medians of the runs with the
range in brackets; absolute numbers vary between machines, the ratios much less.

- Machine: ${machineDescription()}
- Started: ${input.startedAt.toISOString()}
- Whole run, build excluded: ${input.seconds.toFixed(0)} s
- Other load: ${(input.machineLoad.backgroundBefore * 100).toFixed(0)}% of the CPUs busy in the
  second before the run; load average ${input.machineLoad.loadAverageBefore.toFixed(2)} before,
  ${input.machineLoad.loadAverageAfter.toFixed(2)} after
- Plan: \`${JSON.stringify(input.plan)}\`

## Targets of issue 4

| target | measured | verdict |
| --- | --- | --- |
${targetRows.join('\n')}

## Ratios (from medians)

| ratio | value |
| --- | --- |
${ratioRows.join('\n')}

## Scenarios

${scenarioTables(input.summaries)}

## Problems seen during the runs

${notes.length === 0 ? 'None: every stream opened, every emit was accepted.' : notes.join('\n')}

## Every run

\`\`\`jsonl
${input.records.map((record) => JSON.stringify(record)).join('\n')}
\`\`\`
`;
}
