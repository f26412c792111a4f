// The examples a performer records live (Wekinator's idea): each one the values of the chosen
// inputs, then of the chosen targets, at one moment. Columns are parameter addresses, so the set is
// a dataset (dataset.ts) any mapper trains on, saved as CSV and read back by name. Pure data: what
// the values are read from, and when, is the show's business (app/scene/learn-desk.ts).
import { columnsOf, type Dataset } from './dataset.ts';

/** A set this big trains for minutes and says nothing more than a tenth of it; a hold stops here. */
export const MAX_EXAMPLES = 10_000;
/** A mapper feeds at most this many inputs and drives at most this many targets. */
export const MAX_COLUMNS = 256;

export class ExampleError extends Error {}

export class ExampleSet {
  private ins: readonly string[] = [];
  private outs: readonly string[] = [];
  private readonly rows: number[][] = [];

  get inputs(): readonly string[] {
    return this.ins;
  }

  get targets(): readonly string[] {
    return this.outs;
  }

  get size(): number {
    return this.rows.length;
  }

  /** Inputs then targets: the columns of every example. */
  columns(): string[] {
    return [...this.ins, ...this.outs];
  }

  /**
   * Chooses the columns. Examples already recorded keep theirs: a set with examples only takes the
   * columns it has (clear or save it first).
   */
  setColumns(inputs: readonly string[], targets: readonly string[]): void {
    checkColumns(inputs, targets);
    const same = inputs.join('\n') === this.ins.join('\n') && targets.join('\n') === this.outs.join('\n');
    if (!same && this.rows.length) throw new ExampleError(`${this.rows.length} example${this.rows.length === 1 ? ' was' : 's were'} recorded with other columns: save or clear them first`);
    this.ins = inputs.slice();
    this.outs = targets.slice();
  }

  /** One example: a finite value per column, inputs then targets. Returns its index. */
  add(values: readonly number[]): number {
    if (!this.ins.length || !this.outs.length) throw new ExampleError('choose inputs and targets first');
    if (values.length !== this.ins.length + this.outs.length) throw new ExampleError(`an example has ${values.length} values for ${this.ins.length + this.outs.length} columns`);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ExampleError(`${this.columns()[bad]} is ${values[bad]}, not a finite number`);
    if (this.rows.length >= MAX_EXAMPLES) throw new ExampleError(`the set holds ${MAX_EXAMPLES} examples, the most it takes`);
    this.rows.push(values.slice());
    return this.rows.length - 1;
  }

  remove(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.rows.length)
      throw new ExampleError(this.rows.length ? `no example ${index}: they are numbered 0 to ${this.rows.length - 1}` : `no example ${index}: the set is empty`);
    this.rows.splice(index, 1);
  }

  clear(): void {
    this.rows.length = 0;
  }

  /** The newest `n` examples, oldest first, each with its index. */
  recent(n: number): Array<{ index: number; values: number[] }> {
    const from = Math.max(0, this.rows.length - n);
    return this.rows.slice(from).map((values, i) => ({ index: from + i, values: values.slice() }));
  }

  /** A copy as a dataset: columns inputs then targets, one row per example. */
  toDataset(): Dataset {
    return { columns: this.columns(), rows: this.rows.map((r) => r.slice()) };
  }

  /** Replaces everything with a dataset's examples, its columns chosen by name as inputs and targets. */
  load(d: Dataset, inputs: readonly string[], targets: readonly string[]): void {
    if (d.rows.length > MAX_EXAMPLES) throw new ExampleError(`${d.rows.length} examples, more than the ${MAX_EXAMPLES} a live set holds`);
    checkColumns(inputs, targets);
    const rows = columnsOf(d, [...inputs, ...targets]);
    this.ins = inputs.slice();
    this.outs = targets.slice();
    this.rows.length = 0;
    this.rows.push(...rows);
  }
}

function checkColumns(inputs: readonly string[], targets: readonly string[]): void {
  for (const [what, list] of [
    ['inputs', inputs],
    ['targets', targets],
  ] as const) {
    if (list.length > MAX_COLUMNS) throw new ExampleError(`${list.length} ${what}, more than ${MAX_COLUMNS}`);
    const dup = list.find((a, i) => list.indexOf(a) !== i);
    if (dup !== undefined) throw new ExampleError(`${dup} is named twice among the ${what}`);
  }
  const both = inputs.find((a) => targets.includes(a));
  if (both !== undefined) throw new ExampleError(`${both} cannot be an input and a target at once`);
}
