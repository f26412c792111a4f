// Live learning (issue 13, Wekinator's loop): examples recorded from the show's own parameters,
// trained into a mapper in a worker thread (app/learn's trainInWorker), and played as a controller
// whose outputs drive the targets. Every step is a move or a parameter under /netbend/learn/, so
// OSC, MIDI, the page and tests drive it the same way:
//   /netbend/learn/inputs ,s <addresses>   inputs (comma-separated addresses or OSC patterns; - for none)
//   /netbend/learn/targets ,s <addresses>  targets (writable number parameters)
//   /netbend/learn/record                  one example now; /netbend/learn/recording (bool) one a frame
//   /netbend/learn/delete ,i <index>       /netbend/learn/clear
//   /netbend/learn/save ,s <name>          /netbend/learn/load ,s <name>   (<presets>/datasets/<name>.csv)
//   /netbend/learn/train ,s[s] <kind> [name]   linear, kernel, knn[:k], mlp[:32,16] (<presets>/mappers/<name>.onnx)
//   /netbend/learn/cancel                  /netbend/learn/play ,i[s] <0|1> [name]
// The examples are not part of the scene (presets, undo): they are the performer's notes for a
// mapping, saved on their own.
import type { ParameterRegistry } from '../core/registry.ts';
import { ExampleError, ExampleSet, MAX_COLUMNS, MAX_EXAMPLES } from '../learn/example-set.ts';
import type { LearnInfo } from '../core/protocol.ts';
import { LEARN_EXAMPLES, LEARN_PREFIX, LEARN_PROGRESS, LEARN_RECORDING, LEARN_RMSE } from '../core/addresses.ts';
import { checkOptions, trainInWorker, writeMapper, type MapperCard, type MapperKind, type TrainOptions, type TrainProgress } from '../learn/train.ts';
import type { ActionArgValue, ActionRegistry } from './actions.ts';
import { LearnFiles, MAPPER_KINDS } from './learn-files.ts';

/** A mapper to play: its file, and the parameters its inputs read and its outputs drive, in order. */
export interface PlayedMapper {
  file: string;
  inputs: string[];
  targets: string[];
}

export interface LearnHost {
  readonly params: ParameterRegistry;
  readonly actions: ActionRegistry;
  /** The folder datasets/ and mappers/ are kept in (the presets folder). */
  readonly dir: string;
  /** The addresses an OSC pattern matches, in the registry's order. */
  expand(pattern: string): string[];
  /** Plays a mapper as the show's mapping, replacing the one playing; undefined stops it. */
  play(m: PlayedMapper | undefined): Promise<void>;
  notice(level: 'info' | 'warning' | 'error', text: string): void;
  announce(): void;
}

/** Examples the page lists (the newest), and how many of each row's inputs and targets it shows. */
const RECENT = 24;
const SHOWN = 8;
/** A list of addresses may be long (64 sketch cells), never a payload. */
const MAX_LIST = 16 * 1024;
/** Pages hear of progress and of examples recorded while held at most this often. */
const ANNOUNCE_MS = 200;

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

export class LearnDesk {
  readonly examples = new ExampleSet();
  private readonly files: LearnFiles;
  private name: string | null = null;
  private datasets: string[] = [];
  private mappers: string[] = [];
  private job: { name: string; kind: string; progress: TrainProgress; abort: AbortController } | undefined;
  /** The mapper trained last, or played last. */
  private mapping: { name: string; file: string; card: MapperCard } | undefined;
  private playing: string | undefined;
  private announceTimer: NodeJS.Timeout | undefined;
  private announceDue = false;
  private closed = false;

  constructor(private readonly host: LearnHost) {
    this.files = new LearnFiles(host.dir);
    const p = host.params;
    p.define({ address: LEARN_RECORDING, type: 'bool', default: false, transient: true, description: 'record one example per frame while on (hold to record)' });
    p.define({ address: LEARN_EXAMPLES, type: 'int', default: 0, min: 0, max: MAX_EXAMPLES, readOnly: true, description: 'examples recorded' });
    p.define({ address: LEARN_PROGRESS, type: 'float', default: 0, min: 0, max: 1, readOnly: true, description: 'training progress (1: done)' });
    p.define({ address: LEARN_RMSE, type: 'float', default: 0, min: 0, clamp: false, readOnly: true, description: 'validation RMSE of the mapping trained last, in the targets’ units' });
    this.defineMoves();
    void this.refreshLists();
  }

  private defineMoves(): void {
    const a = this.host.actions;
    // Columns, examples and training's start answer at once (a record takes the values of the
    // moment it was asked for); files and playing wait their turn in the show's queue.
    const define = (queued: boolean) => (address: string, description: string, args: Parameters<ActionRegistry['define']>[0]['args'], run: (args: ActionArgValue[]) => unknown) =>
      a.define({ address: `${LEARN_PREFIX}${address}`, args, description, queued, run });
    const now = define(false);
    const queued = define(true);
    now('inputs', 'choose the inputs: comma-separated addresses or OSC patterns (/netbend/wek/inputs/*), - for none', [{ name: 'addresses', type: 's', max: MAX_LIST }], ([s]) =>
      this.choose('inputs', String(s)),
    );
    now('targets', 'choose the targets: writable number parameters, comma-separated addresses or OSC patterns, - for none', [{ name: 'addresses', type: 's', max: MAX_LIST }], ([s]) =>
      this.choose('targets', String(s)),
    );
    now('record', 'record one example: the inputs and targets as they are now', [], () => this.record());
    now('delete', 'delete the example at an index (0 first)', [{ name: 'index', type: 'i' }], ([i]) => this.remove(Number(i)));
    now('clear', 'delete every example', [], () => this.clear());
    queued('save', 'save the examples as <presets>/datasets/<name>.csv', [{ name: 'name', type: 's' }], ([n]) => this.save(String(n)));
    queued('load', 'load the examples of <presets>/datasets/<name>.csv (replacing these)', [{ name: 'name', type: 's' }], ([n]) => this.load(String(n)));
    now(
      'train',
      'train a mapping from the examples, off the frame loop: kind linear, kernel, knn[:k] or mlp[:hidden sizes, e.g. mlp:32,16]; saved as <presets>/mappers/<name>.onnx',
      [
        { name: 'kind', type: 's' },
        { name: 'name', type: 's', optional: true },
      ],
      ([kind, n]) => this.train(String(kind), n === undefined ? undefined : String(n)),
    );
    now('cancel', 'stop the training under way', [], () => this.cancel());
    queued(
      'play',
      'play (1) the mapping trained last, or the one named, as a controller: its outputs drive the targets; 0 stops it',
      [
        { name: 'on', type: 'i' },
        { name: 'name', type: 's', optional: true },
      ],
      ([on, n]) => this.play(on === 1, n === undefined ? undefined : String(n)),
    );
  }

  info(): LearnInfo {
    const job = this.job;
    const m = this.mapping;
    return {
      inputs: [...this.examples.inputs],
      targets: [...this.examples.targets],
      examples: this.examples.size,
      recent: this.examples.recent(RECENT).map((r) => {
        const n = this.examples.inputs.length;
        return { index: r.index, inputs: r.values.slice(0, Math.min(n, SHOWN)), targets: r.values.slice(n, n + SHOWN) };
      }),
      name: this.name,
      datasets: this.datasets,
      mappers: this.mappers,
      training: job ? { name: job.name, kind: job.kind, ...job.progress } : null,
      mapping: m
        ? {
            name: m.name,
            model: m.card.model,
            inputs: m.card.inputs.length,
            targets: m.card.targets.length,
            examples: m.card.examples,
            validationRmse: m.card.validationRmse,
            validationRmsePerTarget: m.card.validationRmsePerTarget,
          }
        : null,
      playing: this.playing ?? null,
    };
  }

  // --- columns and examples --------------------------------------------------------------------

  /** Addresses from a list of addresses, short names and patterns, each checked for its role. */
  private resolve(role: 'inputs' | 'targets', list: string): string[] {
    const out: string[] = [];
    const entries = list.trim() === '-' ? [] : list.split(',').map((s) => s.trim());
    for (const e of entries) {
      if (!e) continue;
      const found = /[*?[{]/.test(e) ? this.host.expand(e) : [this.address(e)];
      if (!found.length) throw new ExampleError(`${e} matches no parameter`);
      for (const address of found) if (!out.includes(address) && this.fits(role, address, !/[*?[{]/.test(e))) out.push(address);
      if (out.length > MAX_COLUMNS) throw new ExampleError(`more than ${MAX_COLUMNS} ${role}`);
    }
    return out;
  }

  /** An exact address, or a short name that ends one ("knobs/k1"). */
  private address(name: string): string {
    const params = this.host.params;
    if (params.has(name)) return name;
    const suffix = name.startsWith('/') ? name : `/${name}`;
    const hits = params
      .list()
      .map((s) => s.address)
      .filter((a) => a.endsWith(suffix));
    if (hits.length === 1) return hits[0]!;
    throw new ExampleError(hits.length ? `"${name}" is ambiguous: ${hits.slice(0, 6).join(', ')}` : `no parameter "${name}"`);
  }

  /**
   * Whether a parameter can be an input (a number or a switch) or a target (a writable number a
   * mapping can drive). Named alone, one that cannot is refused; matched by a pattern, it is left out.
   */
  private fits(role: 'inputs' | 'targets', address: string, named: boolean): boolean {
    const spec = this.host.params.spec(address)!;
    const number = spec.type === 'float' || spec.type === 'int';
    const why = address.startsWith(LEARN_PREFIX)
      ? 'part of learning itself'
      : role === 'inputs'
        ? !number && spec.type !== 'bool'
          ? `a ${spec.type}, not a number or a switch`
          : undefined
        : !number
          ? `a ${spec.type}, not a number a mapping can drive`
          : spec.readOnly
            ? 'read-only'
            : spec.transient
              ? 'an action, not a value'
              : address.startsWith('/netbend/ctl/')
                ? "a controller's own input"
                : undefined;
    if (why && named) throw new ExampleError(`${address} cannot be one of the ${role}: ${why}`);
    return !why;
  }

  private choose(role: 'inputs' | 'targets', list: string): string[] {
    const chosen = this.resolve(role, list);
    if (role === 'inputs') this.examples.setColumns(chosen, this.examples.targets);
    else this.examples.setColumns(this.examples.inputs, chosen);
    this.announceSoon();
    return chosen;
  }

  /** The inputs and targets as they are now, inputs first. */
  private row(): number[] {
    const params = this.host.params;
    return this.examples.columns().map((a) => {
      if (!params.has(a)) throw new ExampleError(`no parameter ${a} now (another model?): choose the columns again`);
      const v = params.target(a);
      return typeof v === 'number' ? v : v === true ? 1 : 0;
    });
  }

  private record(): number {
    if (this.playing) throw new ExampleError(`the mapping "${this.playing}" drives the targets: stop it before recording`);
    const index = this.examples.add(this.row());
    this.counted();
    this.announceSoon();
    return index;
  }

  /** Called before every frame: while recording is held, one example a frame. */
  frame(): void {
    const params = this.host.params;
    if (params.get(LEARN_RECORDING) !== true) return;
    try {
      if (this.playing) throw new ExampleError(`the mapping "${this.playing}" drives the targets: stop it before recording`);
      this.examples.add(this.row());
      this.counted();
      this.announceSoon();
    } catch (err) {
      params.set(LEARN_RECORDING, false, 'engine');
      this.host.notice(err instanceof ExampleError && this.examples.size >= MAX_EXAMPLES ? 'info' : 'warning', `recording examples stopped: ${(err as Error).message}`);
      this.host.announce();
    }
  }

  private remove(index: number): void {
    this.examples.remove(index);
    this.counted();
    this.announceSoon();
  }

  private clear(): void {
    this.examples.clear();
    this.counted();
    this.announceSoon();
  }

  private counted(): void {
    this.host.params.set(LEARN_EXAMPLES, this.examples.size, 'engine');
  }

  // --- files -------------------------------------------------------------------------------------

  private async save(raw: string): Promise<string> {
    const name = LearnFiles.checkName(raw);
    if (!this.examples.size) throw new ExampleError('no examples to save');
    const data = this.examples.toDataset();
    const file = await this.files.saveExamples(name, data, { inputs: [...this.examples.inputs], targets: [...this.examples.targets] });
    this.name = name;
    await this.refreshLists();
    this.host.notice('info', `${plural(data.rows.length, 'example')} saved to ${file}`);
    this.host.announce();
    return file;
  }

  private async load(raw: string): Promise<number> {
    const name = LearnFiles.checkName(raw);
    const { data, columns } = await this.files.readExamples(name);
    const { inputs, targets } = columns ?? { inputs: [...this.examples.inputs], targets: [...this.examples.targets] };
    if (!inputs.length || !targets.length)
      throw new ExampleError(
        `${name}.csv does not say which columns are inputs (no ${name}.json beside it): choose inputs and targets, then load it; its columns are ${data.columns.slice(0, 12).join(', ')}`,
      );
    const had = this.examples.size;
    this.examples.load(data, inputs, targets);
    this.name = name;
    this.counted();
    const missing = this.examples.columns().filter((a) => !this.host.params.has(a));
    this.host.notice(
      missing.length ? 'warning' : 'info',
      `${plural(data.rows.length, 'example')} loaded from ${name}.csv${had ? ` (replacing ${had})` : ''}${missing.length ? `; not parameters now: ${missing.slice(0, 6).join(', ')}` : ''}`,
    );
    this.host.announce();
    return data.rows.length;
  }

  private async refreshLists(): Promise<void> {
    ({ datasets: this.datasets, mappers: this.mappers } = await this.files.list());
  }

  // --- training and playing ----------------------------------------------------------------------

  /** Starts training and answers at once with the mapping's name; its end is said as a notice. */
  private train(spec: string, raw: string | undefined): string {
    const kind = parseKind(spec);
    if (this.job) throw new ExampleError(`the mapping "${this.job.name}" is training: wait for it, or /netbend/learn/cancel`);
    const name = LearnFiles.checkName(raw ?? this.name ?? 'mapping');
    const n = this.examples.size;
    if (!this.examples.inputs.length || !this.examples.targets.length) throw new ExampleError('choose inputs and targets, and record examples, before training');
    if (n === 0) throw new ExampleError('no examples to train on: record some first');
    const data = this.examples.toDataset();
    const opts: TrainOptions = { inputs: [...this.examples.inputs], targets: [...this.examples.targets], ...kind };
    // Refused now (too few examples, k past them), as the move's own answer, not a notice later.
    checkOptions(data, opts);
    const abort = new AbortController();
    const job = { name, kind: spec, progress: { stage: 'preparing' } as TrainProgress, abort };
    this.job = job;
    this.host.params.set(LEARN_PROGRESS, 0, 'engine');
    this.host.notice('info', `training "${name}" (${spec}) on ${plural(n, 'example')}`);
    this.host.announce();
    const file = this.files.mapperFile(name);
    const progress = (p: TrainProgress) => {
      if (this.job !== job) return;
      job.progress = { ...p };
      this.host.params.set(LEARN_PROGRESS, progressOf(p), 'engine');
      this.announceSoon();
    };
    void (async () => {
      try {
        const m = await trainInWorker(data, opts, progress, abort.signal);
        if (abort.signal.aborted) throw new Error('cancelled');
        await writeMapper(file, m);
        this.mapping = { name, file, card: m.card };
        this.host.params.set(LEARN_PROGRESS, 1, 'engine');
        if (Number.isFinite(m.card.validationRmse)) this.host.params.set(LEARN_RMSE, m.card.validationRmse, 'engine');
        await this.refreshLists();
        this.host.notice('info', `mapping "${name}" trained (${m.card.model}, ${plural(m.card.examples, 'example')}): validation RMSE ${fmt(m.card.validationRmse)}; saved as ${file}`);
      } catch (err) {
        if (!this.closed) this.host.notice(abort.signal.aborted ? 'info' : 'error', abort.signal.aborted ? `training "${name}" cancelled` : `training "${name}" failed: ${(err as Error).message}`);
      } finally {
        if (this.job === job) this.job = undefined;
        if (!this.closed) this.host.announce();
      }
    })();
    return name;
  }

  private cancel(): void {
    if (!this.job) throw new ExampleError('no training under way');
    this.job.abort.abort();
  }

  private async play(on: boolean, name: string | undefined): Promise<string | null> {
    if (!on) {
      if (this.playing) await this.host.play(undefined);
      const was = this.playing;
      this.playing = undefined;
      if (was) this.host.notice('info', `mapping "${was}" stopped`);
      this.host.announce();
      return null;
    }
    const m = name === undefined ? this.mapping : await this.readMapper(name);
    if (!m) throw new ExampleError('no mapping to play: train one first (/netbend/learn/train <kind>), or name one in mappers/');
    if (this.host.params.get(LEARN_RECORDING) === true) this.host.params.set(LEARN_RECORDING, false, 'engine');
    await this.host.play({ file: m.file, inputs: m.card.inputs, targets: m.card.targets });
    this.mapping = m;
    this.playing = m.name;
    this.host.notice('info', `mapping "${m.name}" plays: ${plural(m.card.inputs.length, 'input')} drive ${plural(m.card.targets.length, 'target')}`);
    this.host.announce();
    return m.name;
  }

  /** A mapper in mappers/ by name, with its card. */
  private async readMapper(raw: string): Promise<{ name: string; file: string; card: MapperCard }> {
    const name = LearnFiles.checkName(raw);
    return { name, ...(await this.files.readCard(name)) };
  }

  /** The mapping stopped by itself (an input went away): said, and no longer playing. */
  stopped(why: string): void {
    if (!this.playing) return;
    this.host.notice('error', `mapping "${this.playing}" stopped: ${why}`);
    this.playing = undefined;
    this.host.announce();
  }

  /**
   * Pages hear of a change at once, then at most every ANNOUNCE_MS while changes keep coming (a
   * held record, a flood of record moves, training's epochs): the last one is always told.
   */
  private announceSoon(): void {
    if (this.closed) return;
    if (this.announceTimer) {
      this.announceDue = true;
      return;
    }
    this.host.announce();
    this.announceTimer = setTimeout(() => {
      this.announceTimer = undefined;
      if (!this.announceDue) return;
      this.announceDue = false;
      this.announceSoon();
    }, ANNOUNCE_MS);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.announceTimer);
    this.job?.abort.abort();
  }
}

/** Training's progress as one share: the measured fit, then the refit on every example. */
function progressOf(p: TrainProgress): number {
  const k = p.stage === 'exporting' ? 1 : p.stage === 'training' && p.epochs ? Math.min(1, (p.epoch ?? 0) / p.epochs) : 0;
  const [from, span] = p.stage === 'exporting' ? [0.95, 0.05] : p.pass === 'validate' ? [0.05, 0.45] : p.pass === 'refit' ? [0.5, 0.45] : [0.05, 0.9];
  return Math.min(1, from + span * k);
}

const fmt = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(3)) : 'unknown');

/** A kind as moves write it: linear, kernel, knn or knn:<k>, mlp or mlp:<hidden sizes>. */
export function parseKind(spec: string): { model: MapperKind; hidden?: number[]; k?: number } {
  const [kind, opt, ...rest] = spec.trim().split(':');
  const usage = 'linear, kernel, knn[:k] or mlp[:hidden sizes, e.g. mlp:32,16]';
  if (!MAPPER_KINDS.includes(kind as MapperKind) || rest.length) throw new ExampleError(`unknown mapping kind "${spec.slice(0, 40)}": use ${usage}`);
  const model = kind as MapperKind;
  if (opt === undefined || opt === '') return { model };
  if (model === 'knn') {
    const k = Number(opt);
    if (!Number.isInteger(k) || k < 1 || k > 100) throw new ExampleError(`knn:${opt}: k is a whole number 1-100`);
    return { model, k };
  }
  if (model === 'mlp') {
    const hidden = opt.split(',').map(Number);
    if (hidden.length > 4 || !hidden.every((h) => Number.isInteger(h) && h >= 1 && h <= 1024)) throw new ExampleError(`mlp:${opt}: at most 4 hidden sizes, each a whole number 1-1024`);
    return { model, hidden };
  }
  throw new ExampleError(`${model} takes no options (${spec.slice(0, 40)}): use ${usage}`);
}
