// Where live learning keeps its files, beside the presets: <dir>/datasets/<name>.csv (examples,
// inputs then targets by address, which any tool reads as it is) with <name>.json saying which
// columns are inputs, and <dir>/mappers/<name>.onnx with its card. Every file is read as if it came
// from anywhere: sizes, shapes and names are checked, and a refusal is one sentence naming the file.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from '../control/preset-store.ts';
import { readDataset, writeDataset, type Dataset } from '../learn/dataset.ts';
import { ExampleError, MAX_COLUMNS, MAX_EXAMPLES } from '../learn/example-set.ts';
import type { MapperCard, MapperKind } from '../learn/train.ts';

export const MAPPER_KINDS: readonly MapperKind[] = ['linear', 'kernel', 'knn', 'mlp'];
/** A name of a dataset or a mapper: a file name, nothing that climbs out of its folder. */
const NAME = /^[\w][\w.-]{0,63}$/;
/** A CSV this big is far past MAX_EXAMPLES rows of any sensible width, and slow to parse mid-show. */
const MAX_LIVE_DATASET_BYTES = 8 * 1024 * 1024;

export interface Columns {
  inputs: string[];
  targets: string[];
}

const strings = (v: unknown, min: number): v is string[] => Array.isArray(v) && v.length >= min && v.length <= MAX_COLUMNS && v.every((x) => typeof x === 'string');

export class LearnFiles {
  constructor(readonly dir: string) {}

  get datasets(): string {
    return join(this.dir, 'datasets');
  }

  get mappers(): string {
    return join(this.dir, 'mappers');
  }

  /** A name to save under, trimmed; anything else is refused. */
  static checkName(name: string): string {
    const n = name.trim();
    if (!NAME.test(n)) throw new ExampleError(`"${name.slice(0, 40)}" is not a name to save under: letters, digits, _ . - (at most 64, not starting with . or -)`);
    return n;
  }

  /** Writes the examples and which columns are inputs, each whole or not at all; resolves with the CSV's path. */
  async saveExamples(name: string, data: Dataset, columns: Columns): Promise<string> {
    await mkdir(this.datasets, { recursive: true });
    const file = join(this.datasets, `${name}.csv`);
    await writeDataset(file, data);
    await atomicWrite(join(this.datasets, `${name}.json`), `${JSON.stringify({ netbend: 'examples', version: 1, ...columns }, null, 2)}\n`);
    return file;
  }

  /** The examples saved under `name`, and which columns are inputs when the file beside them says. */
  async readExamples(name: string): Promise<{ file: string; data: Dataset; columns: Columns | undefined }> {
    const file = join(this.datasets, `${name}.csv`);
    // Parsed on the show's thread: a file far past what a live set holds is refused unread.
    const size = await stat(file).then(
      (st) => st.size,
      () => 0,
    );
    if (size > MAX_LIVE_DATASET_BYTES)
      throw new ExampleError(
        `${file}: ${(size / 1048576).toFixed(1)} MB, more than a live set of ${MAX_EXAMPLES} examples (at most ${MAX_LIVE_DATASET_BYTES / 1048576} MB); train it with netbend train`,
      );
    const data = await readDataset(file);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(join(this.datasets, `${name}.json`), 'utf8'));
    } catch {
      return { file, data, columns: undefined };
    }
    const o = json as { netbend?: unknown; inputs?: unknown; targets?: unknown };
    const ok = o?.netbend === 'examples' && strings(o.inputs, 0) && strings(o.targets, 0);
    return { file, data, columns: ok ? { inputs: o.inputs as string[], targets: o.targets as string[] } : undefined };
  }

  /** The example sets and mappers saved, by name. */
  async list(): Promise<{ datasets: string[]; mappers: string[] }> {
    const names = async (dir: string, ext: string) => {
      try {
        return (await readdir(dir))
          .filter((f) => f.endsWith(ext) && !f.startsWith('.'))
          .map((f) => f.slice(0, -ext.length))
          .sort();
      } catch {
        return [];
      }
    };
    const [datasets, mappers] = await Promise.all([names(this.datasets, '.csv'), names(this.mappers, '.onnx')]);
    return { datasets, mappers };
  }

  mapperFile(name: string): string {
    return join(this.mappers, `${name}.onnx`);
  }

  /** A mapper's card, checked: what it reads and drives must be lists of addresses. */
  async readCard(name: string): Promise<{ file: string; card: MapperCard }> {
    const file = this.mapperFile(name);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(`${file}.card.json`, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ExampleError(`${file}.card.json: ${code === 'ENOENT' ? 'no such mapping' : code ? `cannot read (${code})` : 'not JSON'}`);
    }
    const c = json as Partial<MapperCard>;
    if (c?.netbend !== 'mapper' || !strings(c.inputs, 1) || !strings(c.targets, 1)) throw new ExampleError(`${file}.card.json is not a mapper card (netbend: "mapper", inputs and targets)`);
    const finite = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN);
    const card: MapperCard = {
      netbend: 'mapper',
      version: 1,
      inputs: c.inputs,
      targets: c.targets,
      model: MAPPER_KINDS.includes(c.model as MapperKind) ? (c.model as MapperKind) : 'mlp',
      settings: typeof c.settings === 'object' && c.settings !== null ? c.settings : {},
      pca: null,
      validationRmse: finite(c.validationRmse),
      validationRmsePerTarget: Array.isArray(c.validationRmsePerTarget) ? c.validationRmsePerTarget.slice(0, MAX_COLUMNS).map(finite) : [],
      examples: Number.isInteger(c.examples) ? Number(c.examples) : 0,
      date: typeof c.date === 'string' ? c.date.slice(0, 64) : '',
    };
    return { file, card };
  }
}
