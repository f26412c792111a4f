// Direction sets on disk (see engine/latent/direction-set.ts): JSON, written atomically like
// presets, read with a size bound and validated before anything changes. A show keeps them by
// name in a folder beside its presets (<presets>/directions/<name>.json).
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engine/engine.ts';
import { parseDirectionSet, type DirectionSet } from '../engine/latent/direction-set.ts';
import { atomicWrite } from './preset-store.ts';

/** 64 directions of 512 floats as JSON are about 1 MB. */
const MAX_SET_BYTES = 8 * 1024 * 1024;
/** A set's name: a file name, nothing that climbs out of its folder. */
const NAME = /^[\w][\w.-]{0,63}$/;

/** The set the engine plays, with its layer ranges (the directions estimated first when none are). */
async function playedSet(engine: Engine): Promise<DirectionSet> {
  await engine.estimateLatent();
  const set = engine.latent.saveSet();
  if (!set) throw new Error(engine.latent.note ?? engine.latent.error ?? 'no principal directions found');
  return set;
}

/** A set as its file holds it, written atomically. */
function writeDirectionSet(file: string, set: DirectionSet): Promise<void> {
  return atomicWrite(file, `${JSON.stringify(set)}\n`);
}

export async function saveDirectionSet(engine: Engine, file: string): Promise<void> {
  await writeDirectionSet(file, await playedSet(engine));
}

/** Reads and checks a set file; every refusal names the file. */
export async function readDirectionSet(file: string): Promise<DirectionSet> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such direction set' : `cannot read (${code})`}`);
  }
  if (size > MAX_SET_BYTES) throw new Error(`${file}: ${size} bytes is too big for a direction set`);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  try {
    return parseDirectionSet(data);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

export async function loadDirectionSet(engine: Engine, file: string): Promise<void> {
  const set = await readDirectionSet(file);
  try {
    engine.latent.loadSet(set);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** A show's direction sets, by name, in one folder. */
export class DirectionFolder {
  constructor(readonly dir: string) {}

  /** A name to save under or load, trimmed; anything else is refused. */
  static checkName(name: string): string {
    const n = name.trim();
    if (!NAME.test(n)) throw new Error(`"${name.slice(0, 40)}" is not a direction set name: letters, digits, _ . - (at most 64, not starting with . or -)`);
    return n;
  }

  file(name: string): string {
    return join(this.dir, `${DirectionFolder.checkName(name)}.json`);
  }

  /** The sets saved, by name (files that merely end in .json are listed; loading checks them). */
  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir))
        .filter((f) => f.endsWith('.json') && !f.startsWith('.') && NAME.test(f.slice(0, -5)))
        .map((f) => f.slice(0, -5))
        .sort();
    } catch {
      return [];
    }
  }

  /** Saves the set the engine plays under `name` (atomically); resolves with its path. */
  async save(name: string, engine: Engine): Promise<string> {
    const file = this.file(name);
    const set = await playedSet(engine);
    await mkdir(this.dir, { recursive: true });
    await writeDirectionSet(file, set);
    return file;
  }

  read(name: string): Promise<DirectionSet> {
    return readDirectionSet(this.file(name));
  }
}
