import type { ErrorObject } from 'ajv';

/** Words a schema failure the way a person reads it, naming the field. */
export function describeSchemaError(
  first: ErrorObject | undefined,
  part: string,
  messages: Record<string, string>,
): string {
  if (!first) return 'The request is not valid';

  const missing = (first.params as { missingProperty?: string }).missingProperty;
  const field = missing ?? first.instancePath.slice(1).replaceAll('/', '.');

  if (field === '') return `The ${part} must be a JSON object`;
  if (missing) return `${field} is required`;

  return messages[`${part}.${field}`] ?? `${field} ${first.message ?? 'is not valid'}`;
}
