// The output picture on a canvas: one regl instance, one texture reused from frame to frame, and a
// draw only when something changed (a newer packet, fit/fill, the blackout fade, a resize).
import createREGL from 'regl';
import vert from '../../shaders/output.vert';
import frag from '../../shaders/output.frag';
import { QUAD, aspectScale, fitCanvas } from './gl-common.ts';
import type { Picture } from './connection.ts';

/** Seconds for the blackout to get ~63% of the way (the registry's smoothing of the parameter). */
const FADE_TAU = 0.15;

export class OutputView {
  private readonly regl: createREGL.Regl;
  private readonly texture: createREGL.Texture2D;
  private readonly draw: createREGL.DrawCommand;
  private size: [number, number] = [0, 0];
  private shownSeq = -1;
  private shownFill: boolean | undefined;
  private fade = 0;
  private lastNow = 0;
  /** Frame index of the picture on screen (-1 before the first). */
  shownIndex = -1;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly opts: { fill: () => boolean; blackout: () => number },
  ) {
    // preserveDrawingBuffer: the page (and the tests) can read back what is on screen.
    this.regl = createREGL({ canvas, attributes: { preserveDrawingBuffer: true, antialias: false, alpha: false, depth: false, stencil: false } });
    this.texture = this.regl.texture({ width: 1, height: 1, data: new Uint8Array([0, 0, 0, 255]) });
    this.fade = opts.blackout();
    this.draw = this.regl({
      vert,
      frag,
      attributes: { position: QUAD },
      uniforms: {
        picture: this.texture,
        blackout: this.regl.prop<{ blackout: number }, 'blackout'>('blackout'),
        scale: this.regl.prop<{ scale: [number, number] }, 'scale'>('scale'),
      },
      count: 6,
      depth: { enable: false },
    });
  }

  /** Called every animation frame with the newest picture; draws only if something changed. */
  frame(now: number, pic: Picture | undefined): boolean {
    const dt = this.lastNow ? Math.min(0.25, (now - this.lastNow) / 1000) : 0;
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
    const fill = this.opts.fill();
    if (fill !== this.shownFill) (this.shownFill = fill), (dirty = true);
    const target = this.opts.blackout();
    if (this.fade !== target) {
      const next = this.fade + (target - this.fade) * (1 - Math.exp(-dt / FADE_TAU));
      this.fade = Math.abs(target - next) < 0.003 ? target : next;
      dirty = true;
    }
    if (!dirty) return false;
    this.regl.poll();
    this.regl.clear({ color: [0, 0, 0, 1] });
    if (this.size[0] > 0) this.draw({ blackout: this.fade, scale: aspectScale(this.canvas.width, this.canvas.height, this.size[0], this.size[1], fill) });
    return true;
  }

  /** The blackout amount on screen now (eased). */
  get blackout(): number {
    return this.fade;
  }

  destroy(): void {
    this.regl.destroy();
  }
}
