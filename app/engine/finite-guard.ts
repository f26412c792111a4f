// No black frames: a bend that drives the net to NaN or Inf (a weight set to 0 under a
// normalisation, an overflow, a log of a negative) must not turn the show black without a word.
// Every frame says which of its tensors were not finite (the picture is checked in the graph, see
// onnx/finite-check.ts; taps and numeric outputs in the inference worker). The guard counts those
// frames, hands on the last good picture instead of the broken one, and reports each incident (a
// run of such frames) once, naming the layer where the non-finite values first appear. Finding
// that layer takes a session with every layer's output exposed, so it is done off the frame path:
// a diagnostic runner beside the playing one runs the incident's first frame once and goes.
import type { LayerTree, Layer } from './onnx/layer-tree.ts';
import type { ImageLayout } from './onnx/rewrite.ts';
import type { ModelHost } from './inference/model-host.ts';
import { ModelRunner } from './inference/model-runner.ts';
import type { BendAmounts, BendSpec, EpName, TensorMsg, ValueRange } from './inference/protocol.ts';
import type { LatentFrame, LatentShape } from './latent/latent-feeds.ts';

/** What a frame was rendered from: enough to render it again in a diagnostic session. */
export interface FrameInputs {
  feeds: Record<string, TensorMsg>;
  amounts: BendAmounts | undefined;
  range: ValueRange | undefined;
  bend: BendSpec | undefined;
  weightDims: Record<string, number[]>;
  /** W space as the frame played it (its latent graph's feeds); absent when it played plain. */
  latent?: { shape: LatentShape; frame: LatentFrame };
}

/** Where non-finite values first appear: a layer, or (outside every layer) the output itself. */
export type Origin = { layer: Layer } | { output: string } | { unreproduced: true };

export class FiniteGuard {
  /** Frames so far with a NaN or Inf in the picture, a tap or a numeric output. */
  count = 0;
  private inIncident = false;
  private lastGood: Uint8Array | undefined;
  private locating: Promise<void> | undefined;

  constructor(
    private readonly tree: LayerTree,
    private readonly image: string | undefined,
    private readonly locate: (inputs: FrameInputs) => Promise<Origin>,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * Checks one frame's reply and returns the picture to hand on: the frame's own, or, when it is
   * not finite, the last good one copied into its buffer (a held frame is still a new buffer, so
   * whatever holds the previous one keeps it). `inputs` is asked for only when an incident starts.
   */
  check(index: number, rgba: Uint8Array | undefined, nonFinite: readonly string[], inputs: () => FrameInputs): Uint8Array | undefined {
    if (nonFinite.length === 0) {
      this.inIncident = false;
      if (rgba) this.lastGood = rgba;
      return rgba;
    }
    this.count++;
    const picture = this.image !== undefined && nonFinite.includes(this.image);
    if (!this.inIncident) {
      this.inIncident = true;
      // An incident that starts again while the last one is still being located is the same trouble.
      if (!this.locating) this.report(index, picture, nonFinite, inputs());
    }
    if (!picture) {
      if (rgba) this.lastGood = rgba;
      return rgba;
    }
    if (rgba && this.lastGood?.length === rgba.length) rgba.set(this.lastGood);
    return rgba;
  }

  /** Resolves once no diagnosis is running (close waits for it). */
  async settled(): Promise<void> {
    while (this.locating) await this.locating;
  }

  private report(index: number, picture: boolean, nonFinite: readonly string[], inputs: FrameInputs): void {
    const others = nonFinite.filter((n) => n !== this.image).map((n) => this.describe(n));
    const where = [...(picture ? ['the picture'] : []), ...others].join(' and ');
    const held = picture ? (this.lastGood ? '; showing the last good picture until it is finite again' : '; there is no good picture yet to show instead') : '';
    const p = this.locate(inputs)
      .then(
        (o) =>
          'layer' in o
            ? `they first appear in layer ${o.layer.path}`
            : 'output' in o
              ? `they first appear after the last layer, in the output ${o.output}`
              : 'a diagnostic run of the same frame was finite, so where they appear is unknown',
        (err: unknown) => `could not find where they appear (${String(err instanceof Error ? err.message : err).split('\n')[0]})`,
      )
      .then((origin) => this.warn(`frame ${index}: non-finite values (NaN or Inf) in ${where}; ${origin}${held}`))
      .catch(() => {}) // a listener that throws is its own problem, not the frame loop's
      .finally(() => {
        if (this.locating === p) this.locating = undefined;
      });
    this.locating = p;
  }

  /** A fetched tensor as the performer knows it: a tapped layer, or a numeric output. */
  private describe(tensor: string): string {
    const layer = this.tree.all().find((l) => l.output === tensor);
    return layer ? `the tap ${layer.path}` : `the output ${tensor}`;
  }
}

/**
 * Renders `inputs` again in a session exposing every layer's output and returns the first layer,
 * in graph order, whose output is not finite. Spawns its own runner and closes it.
 */
export async function locateNonFinite(host: ModelHost, tree: LayerTree, image: ImageLayout | undefined, ep: EpName, inputs: FrameInputs): Promise<Origin> {
  const layers = tree
    .all()
    .filter((l) => l.output !== undefined)
    .sort((a, b) => (a.order ?? Infinity) - (b.order ?? Infinity));
  const taps = [...new Set(layers.map((l) => l.output!))];
  const runner = ModelRunner.spawn();
  try {
    const graphs = await host.build(image, taps, inputs.bend, inputs.latent !== undefined);
    await runner.load({ kind: 'load', ...graphs, ep, image, bend: inputs.bend, weightDims: inputs.weightDims, warmup: inputs.feeds, latent: inputs.latent?.shape });
    const reply = await runner.run({ kind: 'run', feeds: inputs.feeds, fetch: taps, range: inputs.range, amounts: inputs.amounts, lead: 0, latent: inputs.latent?.frame });
    const bad = new Set(reply.nonFinite);
    const first = layers.find((l) => bad.has(l.output!));
    if (first) return { layer: first };
    const output = reply.nonFinite[0];
    return output !== undefined ? { output } : { unreproduced: true };
  } finally {
    await runner.close();
  }
}
