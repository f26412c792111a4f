// Small models of the other kinds netbend plays (image-to-image, plain regression), built on the
// fly so tests need no binary fixtures. Seeded, so every call writes the same bytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { GraphBuilder, SeededRandom, attr, type Attr } from '../../app/engine/onnx/graph-builder.ts';

export function writeModel(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** He-style init: keeps activations in a sane range through LeakyReLU stacks. */
function convWeights(g: GraphBuilder, rng: SeededRandom, scope: string, shape: [number, number, number, number], fanIn: number, cout: number): [string, string] {
  const w = g.initializer(
    `${scope}.weight`,
    rng.normal(
      shape.reduce((a, b) => a * b, 1),
      Math.sqrt(2 / fanIn),
    ),
    shape,
  );
  const b = g.initializer(`${scope}.bias`, rng.normal(cout, 0.05), [cout]);
  return [w, b];
}

/**
 * Image-to-image U-Net: `image` [1,3,128,128] -> `output` [1,3,128,128] in [-1,1].
 * G.enc0 (3->16, stride 2, 64px), G.enc1 (16->32, stride 2, 32px), G.dec0 (Resize x2 + conv 32->16,
 * 64px, Concat skip from enc0), G.dec1 (ConvTranspose 32->16, 128px, Concat skip from the image),
 * G.out (conv 19->3, tanh).
 */
export function makeUnet(path: string): Uint8Array {
  const rng = new SeededRandom(7001);
  const g = new GraphBuilder({ opset: 17, producer: 'netbend test models' });
  const image = g.input('image', [1, 3, 128, 128]);
  const lrelu = (x: string, scope: string, shape: number[]) => g.op('LeakyRelu', [x], { alpha: attr.float(0.2) }, { scope, shapes: [shape] });
  const conv = (x: string, scope: string, cin: number, cout: number, k: number, stride: number, res: number, extra: Record<string, Attr> = {}) => {
    const [w, b] = convWeights(g, rng, scope, [cout, cin, k, k], cin * k * k, cout);
    const pad = Math.floor((k - 1) / 2);
    return g.op(
      'Conv',
      [x, w, b],
      { kernel_shape: attr.ints([k, k]), strides: attr.ints([stride, stride]), pads: attr.ints([pad, pad, pad, pad]), ...extra },
      { scope, shapes: [[1, cout, res, res]] },
    );
  };

  const e0 = lrelu(conv(image, 'G.enc0', 3, 16, 3, 2, 64), 'G.enc0', [1, 16, 64, 64]);
  const e1 = lrelu(conv(e0, 'G.enc1', 16, 32, 3, 2, 32), 'G.enc1', [1, 32, 32, 32]);

  const up = g.op('Resize', [e1, '', g.constant(new Float32Array([1, 1, 2, 2]))], { mode: attr.string('linear') }, { scope: 'G.dec0', shapes: [[1, 32, 64, 64]] });
  const d0 = lrelu(conv(up, 'G.dec0', 32, 16, 3, 1, 64), 'G.dec0', [1, 16, 64, 64]);
  const skip0 = g.op('Concat', [d0, e0], { axis: attr.int(1) }, { scope: 'G.dec0', shapes: [[1, 32, 64, 64]] });

  // ConvTranspose weights are [Cin, Cout, k, k].
  const [tw, tb] = convWeights(g, rng, 'G.dec1', [32, 16, 4, 4], 32 * 4, 16);
  const t = g.op('ConvTranspose', [skip0, tw, tb], { kernel_shape: attr.ints([4, 4]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }, { scope: 'G.dec1', shapes: [[1, 16, 128, 128]] });
  const d1 = lrelu(t, 'G.dec1', [1, 16, 128, 128]);
  const skip1 = g.op('Concat', [d1, image], { axis: attr.int(1) }, { scope: 'G.dec1', shapes: [[1, 19, 128, 128]] });

  const o = conv(skip1, 'G.out', 19, 3, 3, 1, 128);
  g.op('Tanh', [o], {}, { scope: 'G.out', out: 'output' });
  g.output('output', [1, 3, 128, 128]);
  const bytes = g.toBytes();
  writeModel(path, bytes);
  return bytes;
}

/** Regression MLP: `params` [1,8] -> mlp.fc0 (16, tanh) -> mlp.fc1 (linear) -> `values` [1,32]. */
export function makeMlp(path: string): Uint8Array {
  const rng = new SeededRandom(7002);
  const g = new GraphBuilder({ opset: 17, producer: 'netbend test models' });
  const params = g.input('params', [1, 8]);
  const fc = (x: string, scope: string, cin: number, cout: number, out?: string) => {
    const w = g.initializer(`${scope}.weight`, rng.normal(cout * cin, 1 / Math.sqrt(cin)), [cout, cin]);
    const b = g.initializer(`${scope}.bias`, rng.normal(cout, 0.1), [cout]);
    return g.op('Gemm', [x, w, b], { transB: attr.int(1) }, { scope, shapes: [[1, cout]], ...(out ? { out } : {}) });
  };
  const h = g.op('Tanh', [fc(params, 'mlp.fc0', 8, 16)], {}, { scope: 'mlp.fc0', shapes: [[1, 16]] });
  fc(h, 'mlp.fc1', 16, 32, 'values');
  g.output('values', [1, 32]);
  const bytes = g.toBytes();
  writeModel(path, bytes);
  return bytes;
}
