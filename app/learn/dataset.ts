// A dataset of examples, as performers and other tools keep them: a CSV file with a header row of
// column names (parameter addresses, or any names) and one example a row. Which columns are inputs
// and which are targets is chosen by name when training, so one file can teach several mappings.
// Read at an edge: every way a file can be wrong is one DatasetError naming the file and the line.
import { readFile } from 'node:fs/promises';
import { atomicWrite } from '../control/preset-store.ts';

export interface Dataset {
  columns: string[];
  /** One example a row, a finite number per column. */
  rows: number[][];
}

export class DatasetError extends Error {}

/** Bounds past any real set of examples; a larger file is refused before it is parsed. */
export const MAX_DATASET_BYTES = 64 * 1024 * 1024;
export const MAX_COLUMNS = 4096;
export const MAX_ROWS = 200_000;
/** A column name: no comma, quote or line break (so the CSV needs no quoting), at most 256 characters. */
const COLUMN = /^[^,"\r\n]{1,256}$/;

export function parseDataset(text: string, file = '<memory>'): Dataset {
  if (text.length > MAX_DATASET_BYTES) throw new DatasetError(`${file}: larger than ${MAX_DATASET_BYTES / 1024 / 1024} MB; not a dataset netbend trains on`);
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new DatasetError(`${file}: empty; a dataset starts with a header row of column names`);
  const columns = lines[0]!.split(',').map((c) => c.trim());
  if (columns.length > MAX_COLUMNS) throw new DatasetError(`${file}: ${columns.length} columns, more than ${MAX_COLUMNS}`);
  columns.forEach((c, i) => {
    if (!COLUMN.test(c)) throw new DatasetError(`${file}: line 1, column ${i + 1}: "${c.slice(0, 40)}" is not a column name (1-256 characters, no comma or quote)`);
  });
  const dup = columns.find((c, i) => columns.indexOf(c) !== i);
  if (dup !== undefined) throw new DatasetError(`${file}: line 1: the column "${dup}" appears twice`);
  if (lines.length - 1 > MAX_ROWS) throw new DatasetError(`${file}: ${lines.length - 1} rows, more than ${MAX_ROWS}`);
  const rows: number[][] = [];
  for (let l = 1; l < lines.length; l++) {
    const cells = lines[l]!.split(',');
    if (cells.length !== columns.length) throw new DatasetError(`${file}: line ${l + 1} has ${cells.length} values for ${columns.length} columns`);
    const row = cells.map((c, i) => {
      const v = c.trim() === '' ? Number.NaN : Number(c);
      if (!Number.isFinite(v)) throw new DatasetError(`${file}: line ${l + 1}, column "${columns[i]}": "${c.trim().slice(0, 40)}" is not a finite number`);
      return v;
    });
    rows.push(row);
  }
  return { columns, rows };
}

/** The CSV text of a dataset; numbers written so they read back exactly. */
export function formatDataset(d: Dataset): string {
  for (const c of d.columns) if (!COLUMN.test(c)) throw new DatasetError(`"${c.slice(0, 40)}" is not a column name (1-256 characters, no comma or quote)`);
  const out = [d.columns.join(',')];
  for (const r of d.rows) {
    if (r.length !== d.columns.length || !r.every(Number.isFinite)) throw new DatasetError(`an example has ${r.length} values for ${d.columns.length} columns, or a value that is not finite`);
    out.push(r.map((v) => String(v)).join(','));
  }
  return `${out.join('\n')}\n`;
}

export async function readDataset(file: string): Promise<Dataset> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(`${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`}`);
  }
  return parseDataset(text, file);
}

/** Written whole or not at all: a crash mid-save leaves the last good file. */
export function writeDataset(file: string, d: Dataset): Promise<void> {
  return atomicWrite(file, formatDataset(d));
}

/** The columns named, as a matrix of rows; an unknown name is refused with the columns there are. */
export function columnsOf(d: Dataset, names: readonly string[]): number[][] {
  const idx = names.map((n) => {
    const i = d.columns.indexOf(n);
    if (i < 0) throw new DatasetError(`no column "${n}"; the columns are ${d.columns.slice(0, 30).join(', ')}${d.columns.length > 30 ? ', ...' : ''}`);
    return i;
  });
  return d.rows.map((r) => idx.map((i) => r[i]!));
}
