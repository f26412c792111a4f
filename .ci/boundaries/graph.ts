// The import graph of a tree: every source file under the scanned folders, each specifier it
// names, and where a relative one lands (file and folder).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { findImports, type ImportKind } from './scan.ts';

export const SCANNED = ['app', 'bench', 'test', 'models'];
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
/** Build outputs and fixtures, not sources (app/ui/dist is the esbuild bundle, test/artifacts test output). */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'artifacts']);
const RESOLVE_EXTS = ['', '.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs'];

export interface Edge {
  /** Root-relative, '/'-separated. */
  from: string;
  spec: string;
  line: number;
  kind: ImportKind;
  /** Root-relative target for relative specifiers that resolve; undefined for packages. */
  to?: string;
  /** True for a relative specifier that resolves to nothing. */
  unresolved?: boolean;
}

const posix = (p: string) => p.split(sep).join('/');

function listSources(root: string, dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) listSources(root, full, out);
    else if (entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(posix(relative(root, full)));
  }
}

function resolveRelative(root: string, from: string, spec: string): string | undefined {
  const base = resolve(root, dirname(from), spec);
  for (const ext of RESOLVE_EXTS) {
    const file = base + ext;
    if (existsSync(file) && statSync(file).isFile()) return posix(relative(root, file));
  }
  for (const ext of RESOLVE_EXTS.slice(1)) {
    const index = join(base, `index${ext}`);
    if (existsSync(index)) return posix(relative(root, index));
  }
  return undefined;
}

export function importGraph(root: string): { files: string[]; edges: Edge[] } {
  const files: string[] = [];
  for (const top of SCANNED) listSources(root, join(root, top), files);
  files.sort();
  const edges: Edge[] = [];
  for (const from of files) {
    for (const ref of findImports(readFileSync(join(root, from), 'utf8'))) {
      const edge: Edge = { from, ...ref };
      if (ref.spec.startsWith('./') || ref.spec.startsWith('../')) {
        const to = resolveRelative(root, from, ref.spec);
        if (to === undefined) edge.unresolved = true;
        else edge.to = to;
      }
      edges.push(edge);
    }
  }
  return { files, edges };
}

/**
 * The unit the cycle rule compares: app/<folder> for code under app/ (app/engine/bend/x.ts is in
 * app/engine), the top folder otherwise (bench, test, models). Sub-folders of one app folder may
 * lean on each other; two app folders may not, since a cycle there means neither can be built,
 * tested or moved alone (app/engine <-> app/control is the case this exists for).
 */
export function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'app' && parts.length > 2) return `app/${parts[1]}`;
  return parts[0] ?? file;
}
