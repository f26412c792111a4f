// Direction sets on disk (see engine/latent/direction-set.ts): JSON, written atomically like
// presets, read with a size bound and validated before anything changes.
import { readFile, stat } from 'node:fs/promises';
import type { Engine } from '../engine/engine.ts';
import { parseDirectionSet } from '../engine/latent/direction-set.ts';
import { atomicWrite } from './preset-store.ts';

/** 64 directions of 512 floats as JSON are about 1 MB. */
const MAX_SET_BYTES = 8 * 1024 * 1024;

export async function saveDirectionSet(engine: Engine, file: string): Promise<void> {
  await engine.estimateLatent();
  const set = engine.latent.saveSet();
  if (!set) throw new Error(engine.latent.note ?? engine.latent.error ?? 'no principal directions found');
  await atomicWrite(file, `${JSON.stringify(set)}\n`);
}

export async function loadDirectionSet(engine: Engine, file: string): Promise<void> {
  const size = (await stat(file)).size;
  if (size > MAX_SET_BYTES) throw new Error(`${file}: ${size} bytes is too big for a direction set`);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  try {
    engine.latent.loadSet(parseDirectionSet(data));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}
