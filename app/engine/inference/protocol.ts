// Messages between the engine (main thread) and the inference worker. The worker owns the
// onnxruntime session, so loading a model or a partner never blocks the frame loop or the servers.
import type { ImageLayout } from '../onnx/rewrite.ts';
import type { StructuralEdit } from '../bend/bend-graph.ts';

export type EpName = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';
export type EpChoice = EpName | 'auto';
export const EP_CHOICES: readonly EpChoice[] = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml', 'auto'];

export type ValueRange = '-1..1' | '0..1' | '0..255';

export interface TensorMsg {
  data: Float32Array;
  dims: number[];
}

export interface LoadRequest {
  kind: 'load';
  file: string;
  ep: EpChoice;
  image: ImageLayout | undefined;
  /** Tensors exposed as extra outputs, fetched only on the frames that ask for them. */
  taps: string[];
  /** The bends the live session is built for; undefined = nothing bent, one plain session. */
  bend: BendSpec | undefined;
  /** Inputs of the first frame: a warm-up run also detects the image's value range. */
  warmup: Record<string, TensorMsg>;
}

export interface BendSpec {
  partnerFile: string | undefined;
  edits: StructuralEdit[];
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
}

export interface RunReply {
  rgba: Uint8Array | undefined;
  tensors: Record<string, TensorMsg>;
  inferMs: number;
  bendMs: number;
}

export type Request = LoadRequest | RunRequest | { kind: 'dispose' };

export const RANGE_TRANSFORM: Record<ValueRange, { scale: number; bias: number }> = {
  '-1..1': { scale: 127.5, bias: 128 },
  '0..1': { scale: 255, bias: 0.5 },
  '0..255': { scale: 1, bias: 0.5 },
};
