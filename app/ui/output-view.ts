// The output picture on a canvas: one regl instance, one texture reused from frame to frame, and a
// draw only when something changed (a newer packet, the fit mode, the blackout fade, a resize).
import createREGL from 'regl';
import vert from '../../shaders/output.vert';
import frag from '../../shaders/output.frag';
import { QUAD, aspectScale, fitCanvas } from './gl-common.ts';
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
const OUTSIDE: [number, number, number] = [0x0f / 255, 0x11 / 255, 0x14 / 255];
const NO_OUTSIDE: [number, number, number] = [0, 0, 0];

interface Uniforms {
  blackout: number;
  frame: [number, number];
  extent: [number, number];
  outside: [number, number, number];
}

export class OutputView {
  private readonly regl: createREGL.Regl;
  private readonly texture: createREGL.Texture2D;
  private readonly draw: createREGL.DrawCommand;
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
  /** The output window on the canvas: x, y (from the bottom left), width, height in pixels. */
  box: [number, number, number, number] = [0, 0, 0, 0];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly opts: OutputViewOptions,
  ) {
    // preserveDrawingBuffer: the page (and the tests) can read back what is on screen.
    this.regl = createREGL({ canvas, attributes: { preserveDrawingBuffer: true, antialias: false, alpha: false, depth: false, stencil: false } });
    this.texture = this.regl.texture({ width: 1, height: 1, data: new Uint8Array([0, 0, 0, 255]) });
    this.draw = this.regl({
      vert,
      frag,
      attributes: { position: QUAD },
      uniforms: {
        picture: this.texture,
        blackout: this.regl.prop<Uniforms, 'blackout'>('blackout'),
        frame: this.regl.prop<Uniforms, 'frame'>('frame'),
        extent: this.regl.prop<Uniforms, 'extent'>('extent'),
        outside: this.regl.prop<Uniforms, 'outside'>('outside'),
        scale: [1, 1],
      },
      count: 6,
      depth: { enable: false },
    });
  }

  /** Called every animation frame with the newest picture; draws only if something changed. */
  frame(now: number, pic: Picture | undefined): boolean {
    // Uncapped: a fade keeps to the clock, so a window whose frames came late (or a tab shown
    // again) shows where the fade is now, not where it would be had it not missed them.
    const dt = this.lastNow ? Math.max(0, (now - this.lastNow) / 1000) : 0;
    this.lastNow = now;
    let dirty = fitCanvas(this.canvas);
    if (pic && pic.seq !== this.shownSeq) {
      this.shownSeq = pic.seq;
      this.shownIndex = pic.index;
      const data = pic.data as Uint8Array;
      if (pic.width === this.size[0] && pic.height === this.size[1]) this.texture.subimage({ width: pic.width, height: pic.height, data });
      else this.texture({ width: pic.width, height: pic.height, data, mag: 'linear', min: 'linear', wrapS: 'clamp', wrapT: 'clamp' });
      this.size = [pic.width, pic.height];
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
      // A straight ramp at one whole fade per `fade` seconds, the same both ways; the shader
      // squares the gain, so it looks even. The first value the show gives is cut to.
      const seconds = this.opts.fade();
      const step = !this.known || !(seconds > 0) ? 1 : dt / seconds;
      this.amount = target > this.amount ? Math.min(target, this.amount + step) : Math.max(target, this.amount - step);
      dirty = true;
    }
    if (asked !== undefined) this.known = true;
    if (!dirty) return false;
    this.regl.poll();
    const { width: cw, height: ch } = this.canvas;
    // The window in the canvas (contained, centred), then the picture in the window.
    const frame: [number, number] = shape === undefined ? [1, 1] : aspectScale(cw, ch, shape, 1, 'fit');
    const [fw, fh] = [frame[0] * cw, frame[1] * ch];
    this.box = [(cw - fw) / 2, (ch - fh) / 2, fw, fh];
    const [sx, sy] = this.size[0] > 0 ? aspectScale(fw, fh, this.size[0], this.size[1], mode) : [0, 0];
    this.draw({ blackout: this.amount, frame, extent: [sx * frame[0], sy * frame[1]], outside: shape === undefined ? NO_OUTSIDE : OUTSIDE });
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
    this.regl.destroy();
  }
}
