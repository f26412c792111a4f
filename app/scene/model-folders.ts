// Where a show may load models from: the repo's models/, the playing model's folder, and the
// folders given with --models. A file named over OSC or by a page is looked up there and may name
// nothing else: no `/etc/passwd` as a partner, no `../` out of a folder, no symlink out of one.
import { realpathSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** What a folder set holds: the file endings it takes, and how a refusal names them. */
export interface FolderKind {
  extensions: readonly string[];
  /** `model`, `sound file` */
  noun: string;
  /** The flag that adds a folder: `--models`. */
  flag: string;
}

const MODELS: FolderKind = { extensions: ['.onnx'], noun: 'model', flag: '--models' };
/** The sound files a show's track may be (anything ffmpeg decodes; these are the ones a picker lists). */
export const AUDIO_EXTENSIONS = ['.wav', '.mp3', '.flac', '.ogg', '.oga', '.opus', '.m4a', '.aac', '.aif', '.aiff'] as const;
export const TRACKS: FolderKind = { extensions: AUDIO_EXTENSIONS, noun: 'sound file', flag: '--tracks' };

export class ModelFolders {
  private readonly folders: string[] = [];

  constructor(
    folders: readonly string[] = [],
    readonly kind: FolderKind = MODELS,
  ) {
    for (const f of folders) this.add(f);
  }

  /** Adds a folder (once); folders that do not exist are kept out. */
  add(folder: string): void {
    let real: string;
    try {
      real = realpathSync(resolve(folder));
      if (!statSync(real).isDirectory()) return;
    } catch {
      return;
    }
    if (!this.folders.includes(real)) this.folders.push(real);
  }

  list(): readonly string[] {
    return this.folders;
  }

  /** The files of this kind at the top of each folder (a picker's list), at most `max`, sorted per folder. */
  async files(max = 500): Promise<string[]> {
    const out: string[] = [];
    for (const folder of this.folders) {
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const n of names.sort()) if (out.length < max && this.kind.extensions.some((e) => n.toLowerCase().endsWith(e))) out.push(join(folder, n));
    }
    return out;
  }

  /**
   * The model a name means: an absolute path inside a folder, or a path relative to one of them
   * (the first that has it). Throws a readable error for anything else.
   */
  resolve(name: string): string {
    const { noun, extensions, flag } = this.kind;
    if (typeof name !== 'string' || name.length === 0 || name.length > 1024 || name.includes('\0')) throw new Error(`a ${noun} is named by its file name in a ${noun} folder`);
    if (!extensions.some((e) => name.toLowerCase().endsWith(e))) throw new Error(noun === 'model' ? `"${name}" is not an .onnx model` : `"${name}" is not a ${noun} (${extensions.join(', ')})`);
    const candidates = isAbsolute(name) ? [name] : this.folders.map((f) => join(f, name));
    for (const c of candidates) {
      let real: string;
      try {
        real = realpathSync(c);
        if (!statSync(real).isFile()) continue;
      } catch {
        continue;
      }
      if (this.folders.some((f) => inside(f, real))) return real;
    }
    throw new Error(`no ${noun} "${name}" in the ${noun} folders (${this.folders.join(', ') || 'none'}); add one with ${flag} <folder>`);
  }
}

function inside(folder: string, file: string): boolean {
  const rel = relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
}
