// Finds the module specifiers a source file names, without a parser: TypeScript 7 has no JS
// compiler API and biome exposes no import graph, so this reads the text. Comments are blanked
// first so that a comment mentioning `import('x')` is not an edge; strings stay, since the
// specifiers are strings, but a keyword inside a string is not code and matches nothing.

export type ImportKind = 'static' | 'type' | 'dynamic' | 'require' | 'url';

export interface ImportRef {
  spec: string;
  /** 1-based line of the specifier. */
  line: number;
  kind: ImportKind;
}

/**
 * Comments replaced with spaces (newlines kept, so offsets and lines still match the source), and
 * which characters are code: a match counts only where its keyword is code, so the text of a
 * string (a test fixture holding `import x from 'y'`, an error message) is not an import.
 */
export function lex(src: string): { text: string; code: Uint8Array } {
  const out = src.split('');
  const code = new Uint8Array(src.length);
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? src.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === "'" || c === '"') {
      // Quoted strings cannot span lines, so a quote inside a regex literal derails one line at most.
      i++;
      while (i < src.length && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '`') {
      // Template literals: skipped whole; `${...}` holes rarely hold imports worth seeing.
      i++;
      while (i < src.length && src[i] !== '`') i += src[i] === '\\' ? 2 : 1;
      i++;
    } else code[i++] = 1;
  }
  return { text: out.join(''), code };
}

const Q = `['"]([^'"\\n]+)['"]`;
/** Each pattern's last group is the specifier; `kind` may be refined by the match (import type). */
const PATTERNS: Array<{ re: RegExp; kind: ImportKind }> = [
  // import x from 'y', import { a, type b } from 'y' (multi-line too), import type T from 'y'
  { re: new RegExp(`\\bimport\\s+(type\\s+)?[\\w*{][^'";]*?\\bfrom\\s*${Q}`, 'g'), kind: 'static' },
  // import 'side-effect'
  { re: new RegExp(`\\bimport\\s*${Q}`, 'g'), kind: 'static' },
  // export * from 'y', export { a } from 'y', export type { T } from 'y'
  { re: new RegExp(`\\bexport\\s+(type\\s+)?(?:\\*(?:\\s+as\\s+\\w+)?|\\{[^}]*\\})\\s*from\\s*${Q}`, 'g'), kind: 'static' },
  // import('y') as a call, and typeof import('y') or import('y').T in a type (told apart below)
  { re: new RegExp(`(\\btypeof\\s+)?\\bimport\\s*\\(\\s*${Q}\\s*\\)(\\s*\\.\\s*\\w+\\s*\\(?)?`, 'g'), kind: 'dynamic' },
  // require('y'), and createRequire(import.meta.url)('y'), which midi-ports.ts uses to load lazily
  { re: new RegExp(`(?<![\\w.])require\\s*\\(\\s*${Q}\\s*\\)`, 'g'), kind: 'require' },
  { re: new RegExp(`\\bcreateRequire\\s*\\([^)]*\\)\\s*\\(\\s*${Q}\\s*\\)`, 'g'), kind: 'require' },
  // new URL('./worker.ts', import.meta.url): a worker entry is a runtime edge, as real as an import
  { re: /\bnew\s+URL\s*\(\s*['"](\.{1,2}\/[^'"\n]+\.(?:ts|tsx|js|mjs|cjs))['"]\s*,\s*import\.meta\.url\s*\)/g, kind: 'url' },
];

/**
 * `typeof import('y')` and `import('y').Name` (not followed by a call) are types; `import('y')`,
 * `await import('y')` and `import('y').then(...)` load the module.
 */
function isTypeImport(typeofPrefix: string | undefined, member: string | undefined): boolean {
  return typeofPrefix !== undefined || (member !== undefined && !member.endsWith('('));
}

export function findImports(src: string): ImportRef[] {
  const { text, code } = lex(src);
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const found = new Map<number, ImportRef>();
  for (const { re, kind } of PATTERNS) {
    for (const m of text.matchAll(re)) {
      const spec = kind === 'dynamic' ? m[2] : m[m.length - 1];
      if (spec === undefined || m.index === undefined || code[m.index] !== 1) continue;
      // Keyed by the specifier's offset: two patterns that see the same specifier count once.
      const at = m.index + m[0].lastIndexOf(spec);
      const typeOnly = kind === 'static' ? m[1]?.startsWith('type') === true : kind === 'dynamic' && isTypeImport(m[1], m[3]);
      if (!found.has(at)) found.set(at, { spec, line: lineOf(at), kind: typeOnly ? 'type' : kind });
    }
  }
  return [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, ref]) => ref);
}
