// The boundary rules of issue 10, checked on resolved paths (which biome's noRestrictedImports,
// matching specifier text, can only approximate) and on the imports biome does not see:
// createRequire(...)('x'), typeof import('x'), import('x').T.
import { isBuiltin } from 'node:module';
import { type Edge, folderOf } from './graph.ts';

export interface Violation {
  rule: 'engine-core' | 'ui' | 'onnxruntime' | 'cycle' | 'unresolved';
  message: string;
}

/** The engine core: runs headless, under any host; no sockets, MIDI, Electron or outer layers. */
const CORE = ['app/core/', 'app/engine/', 'app/control/', 'app/scene/', 'app/learn/', 'app/audio/'];
const CORE_FORBIDDEN_PACKAGES = ['ws', 'easymidi', 'electron', 'dgram', 'net', 'http', 'https', 'http2', 'tls'];
const CORE_FORBIDDEN_FOLDERS = ['app/server', 'app/ui', 'app/cli', 'app/electron'];
/** The one module that loads onnxruntime (in a worker thread, so session creation never blocks a frame). */
export const ORT_IMPORTER = 'app/engine/inference/ort.ts';
const ORT = /^onnxruntime-(node|web|common)(\/|$)/;

const where = (e: Edge) => `${e.from}:${e.line}`;
const bare = (spec: string) => spec.replace(/^node:/, '').split('/')[0] ?? spec;
const isType = (e: Edge) => e.kind === 'type';
const describe = (e: Edge) => `${where(e)} ${e.kind === 'static' ? 'imports' : `imports (${e.kind})`} '${e.spec}'`;

function coreRules(edges: Edge[]): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    if (!CORE.some((c) => e.from.startsWith(c))) continue;
    if (e.to === undefined && CORE_FORBIDDEN_PACKAGES.includes(bare(e.spec)) && (e.spec.startsWith('node:') || !e.spec.includes(':'))) {
      out.push({ rule: 'engine-core', message: `${describe(e)}: the engine core does no network, MIDI or Electron I/O` });
    }
    const folder = e.to === undefined ? undefined : folderOf(e.to);
    if (folder !== undefined && CORE_FORBIDDEN_FOLDERS.includes(folder)) {
      out.push({ rule: 'engine-core', message: `${describe(e)} -> ${e.to}: the engine core imports nothing from ${folder}` });
    }
  }
  return out;
}

function uiRules(edges: Edge[]): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    if (!e.from.startsWith('app/ui/') || e.to !== undefined) continue;
    if (ORT.test(e.spec)) out.push({ rule: 'ui', message: `${describe(e)}: the UI runs no model` });
    else if (isBuiltin(e.spec)) out.push({ rule: 'ui', message: `${describe(e)}: the UI runs in a browser, no Node builtins` });
  }
  return out;
}

/**
 * Type-only imports are allowed anywhere the folder rules allow: they vanish at build time, so
 * they load no native binding and no second runtime, which is what this rule is about.
 */
function ortRule(edges: Edge[]): Violation[] {
  return edges
    .filter((e) => ORT.test(e.spec) && !isType(e) && e.from !== ORT_IMPORTER)
    .map((e) => ({ rule: 'onnxruntime' as const, message: `${describe(e)}: only ${ORT_IMPORTER} imports onnxruntime (benches included); go through it` }));
}

/** Strongly connected components of the folder graph (Tarjan), each with more than one folder. */
function folderCycles(edges: Edge[]): Violation[] {
  const between = edges.filter((e) => e.to !== undefined && folderOf(e.from) !== folderOf(e.to));
  const next = new Map<string, Set<string>>();
  for (const e of between) {
    const a = folderOf(e.from);
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)?.add(folderOf(e.to as string));
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((component) => {
    const inside = between.filter((e) => component.includes(folderOf(e.from)) && component.includes(folderOf(e.to as string)));
    const lines = inside.map((e) => `    ${folderOf(e.from)} -> ${folderOf(e.to as string)}: ${describe(e)}`);
    return { rule: 'cycle' as const, message: `folders import each other: ${component.join(' <-> ')}\n${lines.join('\n')}` };
  });
}

export function checkRules(edges: Edge[]): Violation[] {
  const unresolved = edges.filter((e) => e.unresolved && e.kind !== 'url').map((e) => ({ rule: 'unresolved' as const, message: `${describe(e)}: no such file` }));
  return [...coreRules(edges), ...uiRules(edges), ...ortRule(edges), ...folderCycles(edges), ...unresolved];
}
