// `netbend inspect`: what is inside a model, read from the graph itself.
import { readModelFile } from '../engine/onnx/model-file.ts';
import { describeModel } from '../engine/onnx/model-info.ts';
import { buildLayerTree, type Layer } from '../engine/onnx/layer-tree.ts';
import { findImageOutput } from '../engine/image-output.ts';

export async function inspect(file: string, opts: { json?: boolean }): Promise<void> {
  const { model } = await readModelFile(file);
  const info = describeModel(model);
  const tree = buildLayerTree(model);
  const image = findImageOutput(info.outputs);
  const layerJson = (l: Layer): unknown => ({ path: l.path, output: l.output, outputShape: l.outputShape, weights: l.weights, origin: l.origin, children: l.children.map(layerJson) });
  if (opts.json) {
    process.stdout.write(JSON.stringify({ file, ...info, image, layers: tree.roots.map(layerJson) }, null, 2) + '\n');
    return;
  }
  const shape = (s: unknown[]) => `[${s.join(', ')}]`;
  const params = info.weights.reduce((n, w) => n + w.count, 0);
  const types = new Map<string, number>();
  for (const w of info.weights) types.set(w.dtype, (types.get(w.dtype) ?? 0) + 1);
  const stored = [...types].every(([t]) => t === 'float32') ? '' : `, stored as ${[...types].map(([t, n]) => `${n} ${t}`).join(', ')}`;
  const out: string[] = [];
  out.push(
    `${file}`,
    `  producer ${info.producer || 'unknown'}, IR ${info.irVersion}, opset ${info.opset}, ${info.nodeCount} nodes, ${info.weights.length} weights (${(params / 1e6).toFixed(2)} M parameters${stored})`,
  );
  out.push('inputs');
  for (const i of info.inputs) out.push(`  ${i.name}  ${i.dtype} ${shape(i.shape)}`);
  out.push('outputs');
  for (const o of info.outputs) out.push(`  ${o.name}  ${o.dtype} ${shape(o.shape)}${o.name === image?.output ? `  -> ${image.width}x${image.height} image` : ''}`);
  out.push(`layers (from ${tree.roots[0]?.origin === 'weights' ? 'weight names: this graph carries no module scopes' : 'module scopes in the graph'})`);
  const walk = (l: Layer, depth: number) => {
    const count = l.weights.length ? `  ${l.weights.length} weight${l.weights.length > 1 ? 's' : ''}` : '';
    out.push(`${'  '.repeat(depth + 1)}${l.path}${l.outputShape ? '  ' + shape(l.outputShape) : ''}${count}`);
    l.children.forEach((c) => walk(c, depth + 1));
  };
  tree.roots.forEach((l) => walk(l, 0));
  out.push('weights');
  // Only what differs from float32 is said: most models store every weight as float32.
  for (const w of info.weights) out.push(`  ${w.name}  ${shape(w.shape)}  ${w.count}${w.storage ? `  ${w.storage}` : ''}`);
  process.stdout.write(out.join('\n') + '\n');
}
