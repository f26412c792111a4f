// Presets on disk. Writes are atomic (temp file in the same folder, fsync, rename), so a crash or a
// full disk never leaves a half-written preset over a good one. Model paths are stored relative to
// the preset's folder, so a folder of presets and models moves as one.
import { open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parsePreset, PresetError, type Preset } from './preset.ts';

/** Larger than any real preset (a big one with mappings is tens of KB); bigger files are refused unread. */
export const MAX_PRESET_BYTES = 4 * 1024 * 1024;

export async function loadPreset(file: string): Promise<Preset> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_PRESET_BYTES) throw new PresetError(`${file}: ${(size / 1048576).toFixed(1)} MB is too large for a preset (at most ${MAX_PRESET_BYTES / 1048576} MB)`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof PresetError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new PresetError(`${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code})`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PresetError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const p = parsePreset(json, file);
  const dir = dirname(resolve(file));
  const abs = (path: string) => (isAbsolute(path) ? path : resolve(dir, path));
  return { ...p, model: { ...p.model, path: abs(p.model.path) }, partner: p.partner ? { path: abs(p.partner.path) } : null };
}

export async function savePreset(file: string, preset: Preset): Promise<void> {
  const dir = dirname(resolve(file));
  const rel = (path: string) => relative(dir, path) || '.';
  const body = { ...preset, model: { ...preset.model, path: rel(preset.model.path) }, partner: preset.partner ? { path: rel(preset.partner.path) } : null };
  // Validate what is about to be written: an invalid preset never replaces a valid one.
  parsePreset(JSON.parse(JSON.stringify(body)), file);
  await atomicWrite(file, JSON.stringify(body, null, 2) + '\n');
}

export async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export interface PresetEntry {
  name: string;
  path: string;
  modified: number;
}

/** Presets in a folder, by file name; files that are not presets are skipped. */
export async function listPresets(dir: string): Promise<PresetEntry[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return [];
  }
  const out: PresetEntry[] = [];
  for (const f of files.sort()) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const path = join(dir, f);
    try {
      const text = JSON.parse(await readFile(path, 'utf8'));
      if (text?.netbend !== 'preset') continue;
      out.push({ name: typeof text.name === 'string' ? text.name : f.slice(0, -5), path, modified: (await stat(path)).mtimeMs });
    } catch {
      continue;
    }
  }
  return out;
}
