// The output picture on a canvas: one picture canvas reused from frame to frame, and a draw only
// when something changed (a newer packet, the fit mode, the blackout fade, a resize).
import { aspectScale, fitCanvas } from './gl-common.ts';
import { currentValue, type Picture } from './connection.ts';
import { BLACKOUT, FIT_MODES, OUTPUT_FADE, OUTPUT_FIT, type FitMode } from '../core/addresses.ts';

/** A fit mode, or undefined for anything else (a URL's ?fit=, a value not known yet). */
export const asFitMode = (v: unknown): FitMode | undefined => (FIT_MODES.includes(v as FitMode) ? (v as FitMode) : undefined);

/** The mode after `mode` when F is pressed: fit, fill, stretch, fit... */
export const nextFitMode = (mode: FitMode): FitMode => FIT_MODES[(FIT_MODES.indexOf(mode) + 1) % FIT_MODES.length]!;

/** The scene's fit mode (what every output window follows unless it overrides it). */
export const sceneFit = (): FitMode => asFitMode(currentValue(OUTPUT_FIT)) ?? 'fit';

/** The scene's blackout and its fade time, read by the views every animation frame. */
export const sceneBlackout = {
  blackout: (): number | undefined => {
    const v = currentValue(BLACKOUT);
    return v === undefined ? undefined : Number(v);
  },
  fade: (): number => Number(currentValue(OUTPUT_FADE) ?? 0.5),
};

export interface OutputViewOptions {
  /** How the picture meets the canvas: fit (contain), fill (cover) or stretch. */
  mode: () => FitMode;
  /** The blackout asked for, 0 (picture) to 1 (black); undefined until the show has said. */
  blackout: () => number | undefined;
  /** Seconds a whole fade (0 to 1, or back) takes; 0 cuts. */
  fade: () => number;
  /**
   * The shape (width / height) of the output window to frame the picture in, as that window shows
   * it (a preview); undefined: the canvas is the window.
   */
  frame?: () => number | undefined;
}

/** Around the framed output window in a preview: the pane's own grey, so the window's black bars show. */
const OUTSIDE = '#0f1114';

/**
 * The picture on a 2D canvas: put into a canvas of its own size as it came (RGBA8, no conversion),
 * then drawn scaled into the output window. Software-rendered (a browser without a GPU, headless
 * Chromium) this costs a quarter of what a WebGL upload and draw through SwiftShader cost.
 */
export class OutputView {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly picture: OffscreenCanvas | HTMLCanvasElement;
  private readonly pictureCtx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;
  private size: [number, number] = [0, 0];
  private shownSeq = -1;
  private shownMode: FitMode | undefined;
  private shownFrame: number | undefined;
  /** The blackout on screen: black until the show's value is known, so a window opened during a blackout never flashes the picture. */
  private amount = 1;
  private known = false;
  private lastNow = 0;
  /** Frame index of the picture on screen (-1 before the first). */
  shownIndex = -1;
  /** Pictures drawn so far (each newer packet once): what the stream bench counts. */
  pictures = 0;
  /** The output window on the canvas: x, y (from the bottom left), width, height in pixels. */
  box: [number, number, number, number] = [0, 0, 0, 0];
  /** The longest side the picture was last drawn at, in canvas pixels (0 before a picture): what a preview asks for. */
  drawnSide = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly opts: OutputViewOptions,
  ) {
    this.ctx = canvas.getContext('2d', { alpha: false })!;
    this.picture = typeof OffscreenCanvas === 'undefined' ? document.createElement('canvas') : new OffscreenCanvas(1, 1);
    this.pictureCtx = this.picture.getContext('2d', { alpha: false }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;
  }

  /** Called every animation frame with the newest picture; draws only if something changed. */
  frame(now: number, pic: Picture | undefined): boolean {
    // Uncapped: a fade keeps to the clock, so a window whose frames came late (or a tab shown
    // again) shows where the fade is now, not where it would be had it not missed them.
    const dt = this.lastNow ? Math.max(0, (now - this.lastNow) / 1000) : 0;
    this.lastNow = now;
    let dirty = fitCanvas(this.canvas);
    if (pic && pic.seq !== this.shownSeq && pic.channels === 4 && pic.data.byteLength >= pic.width * pic.height * 4 && pic.width > 0 && pic.height > 0) {
      this.shownSeq = pic.seq;
      this.shownIndex = pic.index;
      this.pictures++;
      const data = pic.data as Uint8Array;
      if (pic.width !== this.size[0] || pic.height !== this.size[1]) {
        this.picture.width = pic.width;
        this.picture.height = pic.height;
        this.size = [pic.width, pic.height];
      }
      // A view of the packet itself: no copy before the one into the canvas.
      this.pictureCtx.putImageData(new ImageData(new Uint8ClampedArray(data.buffer as ArrayBuffer, data.byteOffset, pic.width * pic.height * 4), pic.width, pic.height), 0, 0);
      dirty = true;
    }
    const mode = this.opts.mode();
    if (mode !== this.shownMode) (this.shownMode = mode), (dirty = true);
    const aspect = this.opts.frame?.();
    const shape = aspect !== undefined && Number.isFinite(aspect) && aspect > 0 ? aspect : undefined;
    if (shape !== this.shownFrame) (this.shownFrame = shape), (dirty = true);
    const asked = this.opts.blackout();
    const target = asked === undefined ? 1 : Math.min(1, Math.max(0, asked));
    if (this.amount !== target) {
      // A straight ramp at one whole fade per `fade` seconds, the same both ways; the gain is
      // squared below, so it looks even. The first value the show gives is cut to.
      const seconds = this.opts.fade();
      const step = !this.known || !(seconds > 0) ? 1 : dt / seconds;
      this.amount = target > this.amount ? Math.min(target, this.amount + step) : Math.max(target, this.amount - step);
      dirty = true;
    }
    if (asked !== undefined) this.known = true;
    if (!dirty) return false;
    const { width: cw, height: ch } = this.canvas;
    const ctx = this.ctx;
    // The window in the canvas (contained, centred), then the picture in the window.
    const [fx, fy] = shape === undefined ? [1, 1] : aspectScale(cw, ch, shape, 1, 'fit');
    const [fw, fh] = [fx * cw, fy * ch];
    this.box = [(cw - fw) / 2, (ch - fh) / 2, fw, fh];
    const [x0, y0] = [(cw - fw) / 2, (ch - fh) / 2];
    if (shape !== undefined) {
      ctx.fillStyle = OUTSIDE;
      ctx.fillRect(0, 0, cw, ch);
    }
    ctx.fillStyle = '#000';
    ctx.fillRect(x0, y0, fw, fh);
    const gain = 1 - this.amount;
    if (this.size[0] > 0 && gain > 0) {
      const [sx, sy] = aspectScale(fw, fh, this.size[0], this.size[1], mode);
      const [pw, ph] = [sx * fw, sy * fh];
      this.drawnSide = Math.ceil(Math.max(pw, ph));
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, y0, fw, fh);
      ctx.clip();
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'low';
      ctx.drawImage(this.picture, x0 + (fw - pw) / 2, y0 + (fh - ph) / 2, pw, ph);
      // Fade in perceptual terms: squaring the gain makes the fade look even rather than sudden at the end.
      if (gain < 1) {
        ctx.fillStyle = `rgba(0, 0, 0, ${1 - gain * gain})`;
        ctx.fillRect(x0, y0, fw, fh);
      }
      ctx.restore();
    }
    return true;
  }

  /** The blackout amount on screen now (0 picture, 1 black). */
  get blackout(): number {
    return this.amount;
  }

  /** The fit mode on screen now. */
  get mode(): FitMode | undefined {
    return this.shownMode;
  }

  destroy(): void {
    this.picture.width = this.picture.height = 1;
  }
}
