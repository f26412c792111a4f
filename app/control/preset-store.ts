// Presets on disk. Writes are atomic (temp file in the same folder, fsync, rename), so a crash or a
// full disk never leaves a half-written preset over a good one. Model paths are stored relative to
// the preset's folder, so a folder of presets and models moves as one.
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { mkdirSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parsePreset, PresetError, type Preset } from './preset.ts';

/** A preset is a few KB; anything this big is not one, and parsing it would stall the show: refused unread. */
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

export interface ListOptions {
  maxBytes?: number;
  /** Told once per file version about a file that is skipped for its size. */
  onSkip?: (message: string) => void;
}

/** What a file was found to be, kept while its mtime and size stay the same. */
interface Cached {
  mtimeMs: number;
  size: number;
  entry: PresetEntry | null;
}
/** Folder -> file name -> cached entry; each listing keeps only the files it still saw. */
const listCache = new Map<string, Map<string, Cached>>();

/**
 * Presets in a folder, by file name; files that are not presets are skipped, and so are files over
 * `maxBytes`. Listing happens on every save, recall and MIDI program change, so a file is read and
 * parsed only when its (mtime, size) changed since the last listing.
 */
export async function listPresets(dir: string, o: ListOptions = {}): Promise<PresetEntry[]> {
  const maxBytes = o.maxBytes ?? MAX_PRESET_BYTES;
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return [];
  }
  const before = listCache.get(dir);
  const seen = new Map<string, Cached>();
  const out: PresetEntry[] = [];
  for (const f of files.sort()) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const path = join(dir, f);
    let info: { mtimeMs: number; size: number; isFile(): boolean };
    try {
      info = await stat(path);
    } catch {
      continue;
    }
    if (!info.isFile()) continue;
    let c = before?.get(f);
    if (!c || c.mtimeMs !== info.mtimeMs || c.size !== info.size) {
      c = { mtimeMs: info.mtimeMs, size: info.size, entry: null };
      if (info.size > maxBytes) o.onSkip?.(`${path}: ${(info.size / 1024 / 1024).toFixed(1)} MB is too big for a preset (over ${(maxBytes / 1024 / 1024).toFixed(0)} MB), skipped`);
      else c.entry = await readEntry(path, f, info.mtimeMs);
    }
    seen.set(f, c);
    if (c.entry) out.push(c.entry);
  }
  listCache.set(dir, seen);
  return out;
}

async function readEntry(path: string, file: string, modified: number): Promise<PresetEntry | null> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8'));
    if (json?.netbend !== 'preset') return null;
    return { name: typeof json.name === 'string' ? json.name : file.slice(0, -5), path, modified };
  } catch {
    return null;
  }
}

/** `.<file>.<pid>.<ms>.tmp`, as atomicWrite names its temp files. */
const TEMP_NAME = /^\..+\.(\d+)\.(\d+)\.tmp$/;
/** A save takes milliseconds; a temp file older than this was left by a process that died. */
export const ORPHAN_AGE_MS = 60_000;

/**
 * Removes temp files that atomicWrite left behind when its process was killed mid-save: those
 * older than a minute, or whose process is gone. Returns the names removed.
 */
export async function sweepOrphanTemps(dir: string, now = Date.now()): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const f of files) {
    const m = TEMP_NAME.exec(f);
    if (!m) continue;
    const pid = Number(m[1]);
    const written = Number(m[2]);
    if (now - written < ORPHAN_AGE_MS && alive(pid)) continue;
    try {
      await rm(join(dir, f), { force: true });
      swept.push(f);
    } catch {
      continue; // someone else's folder permissions: leave it
    }
  }
  return swept;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The preset port of a live show: where presets are listed, loaded and saved by name. */
export interface PresetStore {
  /** Where presets live, as messages say it. */
  readonly where: string;
  /** The presets there, by name; `onSkip` is told about files too big to be one. */
  list(onSkip?: (message: string) => void): Promise<PresetEntry[]>;
  load(path: string): Promise<Preset>;
  /** Saves under `name` (atomically; the file name is made safe); resolves with its path. */
  save(name: string, preset: Preset): Promise<string>;
  /** Tidies what interrupted saves left behind; at start, before the first listing. */
  sweep(): Promise<string[]>;
  /** Calls `onChange` (debounced) when presets may have come, gone or changed; returns the stop. */
  watch(onChange: () => void): () => void;
}

/** Presets as JSON files in one folder. */
export class PresetFolder implements PresetStore {
  readonly where: string;

  constructor(dir: string) {
    this.where = resolve(dir);
  }

  list(onSkip?: (message: string) => void): Promise<PresetEntry[]> {
    return listPresets(this.where, { onSkip });
  }

  load(path: string): Promise<Preset> {
    return loadPreset(path);
  }

  async save(name: string, preset: Preset): Promise<string> {
    const clean = name.trim();
    if (!clean) throw new Error('a preset needs a name');
    const file = join(this.where, `${clean.replace(/[^\w.-]+/g, '-')}.json`);
    await mkdir(this.where, { recursive: true });
    await savePreset(file, { ...preset, name: clean });
    return file;
  }

  sweep(): Promise<string[]> {
    return sweepOrphanTemps(this.where);
  }

  /** A file dropped into the folder (or edited, or deleted) shows up without a restart. */
  watch(onChange: () => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    let watcher: FSWatcher | undefined;
    try {
      mkdirSync(this.where, { recursive: true });
      watcher = fsWatch(this.where, () => {
        clearTimeout(timer);
        timer = setTimeout(onChange, 150);
      });
      watcher.on('error', () => watcher?.close());
    } catch {
      // No watching here (a read-only or odd file system): listings still happen on every save and recall.
    }
    return () => {
      clearTimeout(timer);
      watcher?.close();
    };
  }
}
