// The layer tree is recovered from the graph itself: module scopes that exporters leave in node
// metadata (dynamo: `pkg.torch.onnx.name_scopes`) or node names (TorchScript: `/G/synthesis/L6/Conv`),
// and, for graphs re-encoded without either (the `-b` fixtures), from the dotted weight names.
import type { ModelProto, NodeProto } from './schema/onnx_pb.ts';
import { tensorInfo, weightInitializers, type Dim } from './model-info.ts';

export interface Layer {
  /** Full module path, e.g. `G.synthesis.L6_84_128` */
  path: string;
  /** Output tensor a tap reads: the layer's main activation as it leaves the layer. */
  output: string | undefined;
  /** Static shape of `output` where the graph records it. */
  outputShape: Dim[] | undefined;
  /** Index of the node that computes `output`: graph order is topological, so lower runs first. */
  order: number | undefined;
  /** Weight initializers under this module, including its sub-modules. */
  weights: string[];
  children: Layer[];
  /** Where the layer came from: node scopes (exact) or weight names (approximate output). */
  origin: 'scopes' | 'weights';
}

export class LayerTree {
  private readonly byPath = new Map<string, Layer>();

  constructor(readonly roots: Layer[]) {
    const walk = (l: Layer) => {
      this.byPath.set(l.path, l);
      l.children.forEach(walk);
    };
    roots.forEach(walk);
  }

  all(): Layer[] {
    return [...this.byPath.values()];
  }

  /**
   * Accepts a full path or a short name: a dotted suffix (`b64.conv1`, `L6_84_128`) or the
   * leading part of a layer's last segment before `_` (`L6` for `L6_84_128`). Ambiguity is an error.
   */
  resolve(name: string): Layer {
    const exact = this.byPath.get(name);
    if (exact) return exact;
    let hits = this.all().filter((l) => l.path.endsWith('.' + name));
    if (hits.length === 0) {
      hits = this.all().filter((l) => {
        const last = l.path.slice(l.path.lastIndexOf('.') + 1);
        return last.split('_')[0] === name && last.includes('_');
      });
    }
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new Error(`layer name "${name}" is ambiguous: ${hits.map((h) => h.path).join(', ')}`);
    const names = this.all()
      .map((l) => l.path)
      .slice(0, 40)
      .join(', ');
    throw new Error(`no layer "${name}" in this model; layers: ${names}${this.byPath.size > 40 ? ', ...' : ''}`);
  }
}

/** Module scopes of one node, outermost first, without the node's own name. */
export function nodeScopes(node: NodeProto): string[] {
  const meta = node.metadataProps.find((p) => p.key === 'pkg.torch.onnx.name_scopes');
  if (meta) {
    const items = [...meta.value.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? m[2] ?? '');
    return items.slice(0, -1).filter((s) => s !== '');
  }
  if (node.name.startsWith('/')) {
    const segs = node.name.split('/').filter(Boolean).slice(0, -1);
    return segs.map((_, i) => segs.slice(0, i + 1).join('.'));
  }
  return [];
}

export function buildLayerTree(model: ModelProto): LayerTree {
  const g = model.graph!;
  const weights = weightInitializers(model).map((t) => t.name);
  const shapes = new Map<string, Dim[]>();
  for (const v of [...g.valueInfo, ...g.output]) shapes.set(v.name, tensorInfo(v).shape);

  const nodeScope = g.node.map(nodeScopes);
  const scoped = nodeScope.some((s) => s.length > 0);
  const paths = new Set<string>();
  for (const s of nodeScope) s.forEach((p) => paths.add(p));
  for (const w of weights) {
    const segs = w.split('.').slice(0, -1);
    segs.forEach((_, i) => paths.add(segs.slice(0, i + 1).join('.')));
  }

  const outputs = scoped ? scopedOutputs(model, nodeScope, shapes) : weightOutputs(model, weights, paths);
  const producer = new Map<string, number>();
  g.node.forEach((n, i) => n.output.forEach((o) => producer.set(o, i)));
  const layers = new Map<string, Layer>();
  for (const path of [...paths].sort(byModuleOrder)) {
    const output = outputs.get(path);
    layers.set(path, {
      path,
      output,
      outputShape: output ? shapes.get(output) : undefined,
      order: output ? producer.get(output) : undefined,
      weights: weights.filter((w) => w.startsWith(path + '.')),
      children: [],
      origin: scoped ? 'scopes' : 'weights',
    });
  }
  const roots: Layer[] = [];
  for (const l of layers.values()) {
    const parent = layers.get(l.path.slice(0, l.path.lastIndexOf('.')));
    (l.path.includes('.') && parent ? parent.children : roots).push(l);
  }
  return new LayerTree(roots);
}

/** Natural order so b4 < b8 < b16 and L2 < L10, as performers read them. */
function byModuleOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * With scopes, a layer's output is a tensor produced inside the scope and read outside it.
 * StyleGAN2 blocks hand out two (features and the RGB skip); the feature map, with the most
 * channels, is the one worth looking at.
 */
function scopedOutputs(model: ModelProto, nodeScope: string[][], shapes: Map<string, Dim[]>): Map<string, string> {
  const g = model.graph!;
  const producerScopes = new Map<string, string[]>();
  g.node.forEach((n, i) => n.output.forEach((o) => producerScopes.set(o, nodeScope[i]!)));
  const leaving = new Map<string, string[]>(); // scope -> tensors leaving it, in production order
  const mark = (tensor: string, consumerScopes: string[]) => {
    const from = producerScopes.get(tensor);
    if (!from) return;
    for (const s of from) {
      if (consumerScopes.includes(s)) continue;
      const list = leaving.get(s) ?? [];
      if (!list.includes(tensor)) list.push(tensor);
      leaving.set(s, list);
    }
  };
  g.node.forEach((n, i) => n.input.forEach((t) => mark(t, nodeScope[i]!)));
  g.output.forEach((o) => mark(o.name, []));
  const order = new Map<string, number>();
  g.node.forEach((n, i) => n.output.forEach((o) => order.set(o, i)));
  const out = new Map<string, string>();
  for (const [scope, tensors] of leaving) {
    const channels = (t: string) => {
      const s = shapes.get(t);
      return s && s.length === 4 && typeof s[1] === 'number' ? s[1] : -1;
    };
    const best = [...tensors].sort((a, b) => channels(b) - channels(a) || (order.get(b) ?? 0) - (order.get(a) ?? 0))[0];
    if (best) out.set(scope, best);
  }
  return out;
}

/**
 * Without scopes: follow the data. A layer's output is the first tensor computed from its own
 * weights that flows into a node computed from weights used later (the next layer). Approximate,
 * and marked so (origin 'weights').
 */
function weightOutputs(model: ModelProto, weights: string[], paths: Set<string>): Map<string, string> {
  const g = model.graph!;
  const firstUse = new Map<string, number>();
  g.node.forEach((n, i) => n.input.forEach((t) => firstUse.has(t) || firstUse.set(t, i)));
  const out = new Map<string, string>();
  for (const path of paths) {
    const own = new Set(weights.filter((w) => w.startsWith(path + '.')));
    if (own.size === 0) continue;
    const start = Math.min(...[...own].map((w) => firstUse.get(w) ?? Infinity));
    const later = new Set(weights.filter((w) => !own.has(w) && (firstUse.get(w) ?? -1) > start));
    const fromOwn = new Set(own);
    const fromLater = new Set(later);
    let last: string | undefined;
    let frontier: string | undefined;
    const producedBy = new Map<string, number>();
    g.node.forEach((n, i) => {
      const a = n.input.some((t) => fromOwn.has(t));
      const b = n.input.some((t) => fromLater.has(t));
      if (b && !frontier) {
        const feed = n.input.find((t) => fromOwn.has(t) && !fromLater.has(t) && producedBy.has(t));
        if (feed) frontier = feed;
      }
      for (const o of n.output) {
        producedBy.set(o, i);
        if (a) fromOwn.add(o);
        if (b) fromLater.add(o);
        if (a && !b) last = o;
      }
    });
    const chosen = frontier ?? last;
    if (chosen) out.set(path, chosen);
  }
  return out;
}
