/** One data record of a CSV file, keyed by the header's column names. */
export interface CsvRecord {
  /** 1-based physical line on which the record starts, for error messages. */
  line: number;
  /** Values by column name; columns missing at the end of a short row are absent. */
  values: Record<string, string>;
  /** How many fields the row had, so callers can notice short or long rows. */
  fieldCount: number;
  /** Set when the row is malformed in a way the reader could not repair. */
  problem?: string;
}

/** A parsed CSV file: the header's column names and the data records after it. */
export interface CsvTable {
  header: string[];
  records: CsvRecord[];
}

interface RawRow {
  line: number;
  fields: string[];
  problem?: string;
}

/**
 * Parses CSV text whose first non-blank row is the header (RFC 4180 quoting: fields in double
 * quotes may hold commas, line breaks and `""` for a quote). Accepts CRLF, LF or CR line ends,
 * skips blank lines, ignores fields beyond the header and leaves missing trailing ones absent.
 */
export function parseCsv(text: string): CsvTable {
  const rows = splitCsvRows(text.replace(/^\uFEFF/, ''));
  const headerRow = rows.shift();
  if (headerRow === undefined) {
    return { header: [], records: [] };
  }

  const header = headerRow.fields.map((name) => name.trim());
  const records = rows.map((row) => toRecord(header, row));

  return { header, records };
}

function toRecord(header: string[], row: RawRow): CsvRecord {
  const values: Record<string, string> = {};
  header.forEach((name, index) => {
    const value = row.fields[index];
    if (value !== undefined) {
      values[name] = value;
    }
  });

  const record: CsvRecord = { line: row.line, values, fieldCount: row.fields.length };
  if (row.problem !== undefined) {
    record.problem = row.problem;
  }

  return record;
}

// Splits CSV text into rows of fields, dropping rows that are entirely blank.
function splitCsvRows(text: string): RawRow[] {
  const rows: RawRow[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldWasQuoted = false;
  let line = 1;
  let rowLine = 1;

  const endRow = (): void => {
    fields.push(field);
    const blank = fields.length === 1 && field.trim() === '' && !fieldWasQuoted;
    if (!blank) {
      rows.push({ line: rowLine, fields });
    }
    fields = [];
    field = '';
    fieldWasQuoted = false;
  };

  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];

    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') {
        quoted = false;
      } else {
        // A line break inside quotes belongs to the field but still advances the line count.
        if (char === '\n' || (char === '\r' && text[index + 1] !== '\n')) {
          line += 1;
        }
        field += char;
      }
      continue;
    }

    if (char === '"' && field === '') {
      quoted = true;
      fieldWasQuoted = true;
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else if (char === '\r' || char === '\n') {
      if (char === '\r' && text[index + 1] === '\n') {
        index += 1;
      }
      endRow();
      line += 1;
      rowLine = line;
    } else {
      // A quote inside an unquoted field, or text after a closing quote, is kept literally.
      field += char;
    }
  }

  if (quoted) {
    fields.push(field);
    rows.push({ line: rowLine, fields, problem: 'unterminated quoted field' });
  } else if (field !== '' || fields.length > 0) {
    endRow();
  }

  return rows;
}
