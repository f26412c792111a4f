// A layer tap on a canvas, three ways: every channel as a grid, one channel through a colormap,
// or the first three principal components as RGB. One regl instance; the tensor is uploaded once
// per packet (as a float atlas for grid and channel, as 3 floats per pixel for PCA) and switching
// channel or colormap is a uniform change. Draws only when something changed.
import createREGL from 'regl';
import vert from '../../shaders/output.vert';
import colormap from '../../shaders/colormap.glsl';
import gridFrag from '../../shaders/tap-grid.frag';
import channelFrag from '../../shaders/tap-channel.frag';
import pcaFrag from '../../shaders/tap-pca.frag';
import { QUAD, aspectScale, fitCanvas } from './gl-common.ts';
import { bestColumns, easeRange, packAtlas, Pca, robustRange, type Atlas } from './tap-math.ts';
import type { Picture } from './connection.ts';

export type TapMode = 'grid' | 'channel' | 'pca';
export type Colormap = 0 | 1 | 2;

export interface TapInput {
  layer: string;
  pic: Picture | undefined;
  mode: TapMode;
  map: Colormap;
  channel: number;
}

/** GLSL ES 1.0 has no #include: the colormaps go in after the precision line. */
function withColormaps(src: string): string {
  const at = src.indexOf('precision highp float;');
  const end = at < 0 ? 0 : at + 'precision highp float;'.length;
  return `${src.slice(0, end)}\n${colormap}\n${src.slice(end)}`;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)).replace('-', '−');

/** PCA colours span ±K standard deviations of each component. */
const PCA_SIGMAS = 2.5;

export class TapView {
  private readonly regl: createREGL.Regl;
  private readonly atlasTex: createREGL.Texture2D;
  private readonly pcaTex: createREGL.Texture2D;
  private readonly drawGrid: createREGL.DrawCommand;
  private readonly drawChannel: createREGL.DrawCommand;
  private readonly drawPca: createREGL.DrawCommand;
  private readonly maxTexture: number;
  readonly floatTextures: boolean;
  private readonly pca = new Pca();

  private layer = '';
  private seq = -1;
  private atlas: Atlas | undefined;
  private atlasSeq = -1;
  private pcaSeq = -1;
  private pcaSpread: [number, number, number] = [1, 1, 1];
  private range: [number, number] | undefined;
  private channelRange: { key: string; range: [number, number] } | undefined;
  private drawnKey = '';
  private scale: [number, number] = [1, 1];
  private shape: [number, number, number] = [0, 0, 0];
  private mode: TapMode = 'grid';
  /** The normalisation on screen, for the caption. */
  rangeText = '';
  /** Size in texels of the picture last drawn ([0, 0] when none). */
  drawnSize: [number, number] = [0, 0];

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.regl = createREGL({ canvas, optionalExtensions: ['OES_texture_float'], attributes: { preserveDrawingBuffer: true, antialias: false, alpha: false, depth: false, stencil: false } });
    this.floatTextures = this.regl.hasExtension('OES_texture_float');
    this.maxTexture = Math.min(8192, this.regl.limits.maxTextureSize);
    this.atlasTex = this.regl.texture({ width: 1, height: 1, format: 'luminance', data: new Uint8Array(1) });
    this.pcaTex = this.regl.texture({ width: 1, height: 1, format: 'rgb', data: new Uint8Array(3) });
    const common = { vert, attributes: { position: QUAD }, count: 6, depth: { enable: false } } as const;
    const prop = <K extends string>(k: K) => this.regl.prop<Record<K, unknown>, K>(k);
    this.drawGrid = this.regl({
      ...common,
      frag: withColormaps(gridFrag),
      uniforms: { atlas: this.atlasTex, scale: prop('scale'), grid: prop('grid'), channels: prop('channels'), cellPx: prop('cellPx'), lo: prop('lo'), hi: prop('hi'), map: prop('map') },
    });
    this.drawChannel = this.regl({
      ...common,
      frag: withColormaps(channelFrag),
      uniforms: { atlas: this.atlasTex, scale: prop('scale'), cell: prop('cell'), lo: prop('lo'), hi: prop('hi'), map: prop('map') },
    });
    this.drawPca = this.regl({ ...common, frag: pcaFrag, uniforms: { components: this.pcaTex, scale: prop('scale'), spread: prop('spread') } });
  }

  /** Called every animation frame; draws only if the tap, the view settings or the size changed. */
  frame(input: TapInput): boolean {
    const resized = fitCanvas(this.canvas);
    const { mode } = input;
    // Without float textures (very rare in WebGL1 today) the view stays dark; the bar says why.
    const pic = this.floatTextures ? input.pic : undefined;
    if (input.layer !== this.layer) {
      this.layer = input.layer;
      this.pca.reset();
      this.range = undefined;
      this.channelRange = undefined;
      this.atlas = undefined;
      this.seq = -1;
    }
    const fresh = !!pic && pic.seq !== this.seq;
    const key = `${pic?.seq}|${mode}|${input.map}|${input.channel}|${this.canvas.width}x${this.canvas.height}`;
    if (!fresh && !resized && key === this.drawnKey) return false;
    this.drawnKey = key;
    this.mode = mode;
    this.regl.poll();
    this.regl.clear({ color: [0.02, 0.022, 0.026, 1] });
    if (!pic || !this.layer) {
      this.drawnSize = [0, 0];
      this.rangeText = '';
      this.shape = [0, 0, 0];
      return true;
    }
    const t = pic.data as Float32Array;
    const c = pic.channels;
    const h = pic.height;
    const w = pic.width;
    this.seq = pic.seq;
    this.shape = [c, h, w];
    // A few pixels of black around the picture, so it does not touch the bars.
    const margin = Math.round(8 * Math.min(2, window.devicePixelRatio || 1));
    const cw = Math.max(1, this.canvas.width - 2 * margin);
    const ch = Math.max(1, this.canvas.height - 2 * margin);
    const inset = (s: [number, number]): [number, number] => [(s[0] * cw) / this.canvas.width, (s[1] * ch) / this.canvas.height];
    if (mode === 'pca') {
      if (this.pcaSeq !== pic.seq) {
        const r = this.pca.run(t, c, h, w);
        this.pcaTex({ width: w, height: h, format: 'rgb', type: 'float', data: r.data, mag: 'nearest', min: 'nearest', wrapS: 'clamp', wrapT: 'clamp' });
        const next = r.sigma.map((s) => Math.max(1e-6, s * PCA_SIGMAS)) as [number, number, number];
        // Spreads follow the layer smoothly, so a busy frame does not dim the next.
        this.pcaSpread = this.pcaSeq < 0 ? next : (this.pcaSpread.map((s, i) => s + (next[i]! - s) * 0.35) as [number, number, number]);
        this.pcaSeq = pic.seq;
      }
      this.scale = inset(aspectScale(cw, ch, w, h, 'fit'));
      this.drawPca({ scale: this.scale, spread: this.pcaSpread });
      this.rangeText = `PC1–3 ±${PCA_SIGMAS}σ`;
      this.drawnSize = [w, h];
      return true;
    }
    this.pcaSeq = -1;
    const cols = bestColumns(c, h, w, cw, ch);
    if (!this.atlas || this.atlasSeq !== pic.seq || this.atlas.cols !== cols) {
      this.atlas = packAtlas(t, c, h, w, cols, this.maxTexture);
      this.atlasTex({ width: this.atlas.width, height: this.atlas.height, format: 'luminance', type: 'float', data: this.atlas.data, mag: 'nearest', min: 'nearest', wrapS: 'clamp', wrapT: 'clamp' });
      if (this.atlasSeq !== pic.seq) this.range = easeRange(this.range, robustRange(t));
      this.atlasSeq = pic.seq;
    }
    const a = this.atlas;
    const map = input.map;
    if (mode === 'grid') {
      this.scale = inset(aspectScale(cw, ch, a.cols * w, a.rows * h, 'fit'));
      const cellPx: [number, number] = [(this.scale[0] * this.canvas.width) / a.cols, (this.scale[1] * this.canvas.height) / a.rows];
      const [lo, hi] = this.range!;
      this.drawGrid({ scale: this.scale, grid: [a.cols, a.rows], channels: c, cellPx, lo, hi, map });
      this.rangeText = `${fmt(lo)} … ${fmt(hi)}`;
      this.drawnSize = [a.cols * w, a.rows * h];
      return true;
    }
    const k = Math.max(0, Math.min(c - 1, Math.round(input.channel)));
    const n = h * w;
    const rangeKey = `${pic.seq}|${k}`;
    if (this.channelRange?.key !== rangeKey) {
      const next = robustRange(t, k * n, (k + 1) * n);
      const sameChannel = this.channelRange?.key.endsWith(`|${k}`);
      this.channelRange = { key: rangeKey, range: sameChannel ? easeRange(this.channelRange!.range, next) : next };
    }
    const [lo, hi] = this.channelRange.range;
    const cell = [((k % a.cols) * a.cellW) / a.width, (Math.floor(k / a.cols) * a.cellH) / a.height, a.cellW / a.width, a.cellH / a.height];
    this.scale = inset(aspectScale(cw, ch, w, h, 'fit'));
    this.drawChannel({ scale: this.scale, cell, lo, hi, map });
    this.rangeText = `${fmt(lo)} … ${fmt(hi)}`;
    this.drawnSize = [w, h];
    return true;
  }

  /** The channel under a pointer in grid mode (-1 off the grid), for click-to-inspect. */
  channelAt(clientX: number, clientY: number): number {
    if (this.mode !== 'grid' || !this.atlas) return -1;
    const r = this.canvas.getBoundingClientRect();
    const x = ((clientX - r.left) / r.width) * 2 - 1;
    const y = 1 - ((clientY - r.top) / r.height) * 2;
    const u = (x / this.scale[0] + 1) / 2;
    const v = (1 - y / this.scale[1]) / 2;
    if (u < 0 || u >= 1 || v < 0 || v >= 1) return -1;
    const k = Math.floor(v * this.atlas.rows) * this.atlas.cols + Math.floor(u * this.atlas.cols);
    return k < this.shape[0] ? k : -1;
  }

  /** [C, H, W] of the tap on screen. */
  get tapShape(): [number, number, number] {
    return this.shape;
  }

  destroy(): void {
    this.regl.destroy();
  }
}
