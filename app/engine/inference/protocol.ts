// Messages between the engine (main thread) and its two kinds of worker: the model host, which
// reads and decodes the model file once and builds the graphs sessions load, and the inference
// worker, which owns one onnxruntime session pair. Neither loading a model or a partner nor
// building a session ever blocks the frame loop or the servers.
import type { ImageLayout } from '../onnx/rewrite.ts';
import type { StructuralEdit } from '../bend/bend-graph.ts';
import type { StructuralFeature } from '../bend/feature-graph.ts';
import type { FeatureFrame } from '../bend/feature-plan.ts';
import type { ModelInfo } from '../onnx/model-info.ts';
import type { Layer } from '../onnx/layer-tree.ts';
import type { WFinding } from '../latent/w-split.ts';
import type { LatentFrame, LatentShape } from '../latent/latent-feeds.ts';

export type EpName = 'cpu' | 'webgpu' | 'cuda' | 'tensorrt' | 'dml' | 'coreml';
export type EpChoice = EpName | 'auto';
export const EP_CHOICES: readonly EpChoice[] = ['cpu', 'webgpu', 'cuda', 'tensorrt', 'dml', 'coreml', 'auto'];

export type ValueRange = '-1..1' | '0..1' | '0..255';

export interface TensorMsg {
  data: Float32Array;
  dims: number[];
}

/** What the model host is asked: open the file, check a partner, or build a session's graphs. */
export type HostRequest =
  | { kind: 'open'; file: string }
  | { kind: 'partner'; file: string }
  /** W space: the mapping network alone (z -> ws), for sampling. */
  | { kind: 'mapping' }
  | {
      kind: 'build';
      image: ImageLayout | undefined;
      /** Tensors exposed as extra outputs, fetched only on the frames that ask for them. */
      taps: string[];
      /** The bends the live graph computes; undefined = no live graph. */
      bend: BendSpec | undefined;
      /** W space: the live graph also takes a shaped ws (see latent/w-graph.ts). */
      latent?: boolean;
    };

export type HostReply =
  | { kind: 'opened'; info: ModelInfo; layers: Layer[]; w: WFinding }
  | { kind: 'mapping'; graph: Uint8Array }
  /** Empty when the partner matches every weight (and is then kept for builds). */
  | { kind: 'partner'; mismatches: string[] }
  | { kind: 'built'; plain: Uint8Array; live: Uint8Array | undefined };

export interface LoadRequest {
  kind: 'load';
  /** The playable graph (image output and taps appended), encoded. */
  plain: Uint8Array;
  /** The same graph with the bends computed in it, when there are bends. */
  live: Uint8Array | undefined;
  ep: EpChoice;
  image: ImageLayout | undefined;
  /** The bends the live graph is built for; undefined = nothing bent, the plain session only. */
  bend: BendSpec | undefined;
  /** Shapes of the weights the bends touch (ablate masks are per output channel). */
  weightDims: Record<string, number[]>;
  /** W space: the live graph takes a shaped ws of this shape. */
  latent?: LatentShape;
  /** Inputs of the first frame: a warm-up run also detects the image's value range. */
  warmup: Record<string, TensorMsg>;
  /** Intra-op threads (default onnxruntime's: one per core); a side runner (the seed grid) takes 1 and leaves the live session its cores. */
  threads?: number;
}

export interface BendSpec {
  partnerFile: string | undefined;
  edits: StructuralEdit[];
  /** Feature-map ops after layer outputs, in the order they apply. */
  features: StructuralFeature[];
}

export interface BendAmounts {
  /** Blend amount per weight (when a partner is loaded). */
  blend: Record<string, number>;
  /** Amount per edit id; removed edits get their identity amount. */
  edits: Record<string, number>;
  /** `set` edits: 1 while active, 0 once removed. */
  on: Record<string, number>;
  /** `ablate` edits with an explicit channel list. */
  channels: Record<string, number[]>;
  /** Each feature-map op's values and channels, by op id. */
  features: Record<string, FeatureFrame>;
}

export interface LoadReply {
  ep: EpName;
  warnings: string[];
  range: ValueRange | undefined;
  outputs: string[];
}

export interface RunRequest {
  kind: 'run';
  feeds: Record<string, TensorMsg>;
  fetch: string[];
  range: ValueRange | undefined;
  /** This frame's bend amounts, for the session's bend spec. */
  amounts: BendAmounts | undefined;
  /** W space this frame; undefined = at identity (truncation 1, no mix, no offset). */
  latent?: LatentFrame;
  /** Free bytes to leave in front of the RGBA pixels in their buffer (see RGBA_LEAD_BYTES). */
  lead: number;
}

export interface RunReply {
  rgba: Uint8Array | undefined;
  tensors: Record<string, TensorMsg>;
  inferMs: number;
  bendMs: number;
  /** Fetched tensors holding a NaN or Inf (the image output's name for the picture), in fetch order. */
  nonFinite: string[];
}

export type Request = LoadRequest | RunRequest | { kind: 'dispose' };

export const RANGE_TRANSFORM: Record<ValueRange, { scale: number; bias: number }> = {
  '-1..1': { scale: 127.5, bias: 128 },
  '0..1': { scale: 255, bias: 0.5 },
  '0..255': { scale: 1, bias: 0.5 },
};
