// Where a show may load models from: the repo's models/, the playing model's folder, and the
// folders given with --models. A file named over OSC or by a page is looked up there and may name
// nothing else: no `/etc/passwd` as a partner, no `../` out of a folder, no symlink out of one.
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

export class ModelFolders {
  private readonly folders: string[] = [];

  constructor(folders: readonly string[] = []) {
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

  /**
   * The model a name means: an absolute path inside a folder, or a path relative to one of them
   * (the first that has it). Throws a readable error for anything else.
   */
  resolve(name: string): string {
    if (typeof name !== 'string' || name.length === 0 || name.length > 1024 || name.includes('\0')) throw new Error('a model is named by its file name in a model folder');
    if (!name.toLowerCase().endsWith('.onnx')) throw new Error(`"${name}" is not an .onnx model`);
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
    throw new Error(`no model "${name}" in the model folders (${this.folders.join(', ') || 'none'}); add one with --models <folder>`);
  }
}

function inside(folder: string, file: string): boolean {
  const rel = relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
}
