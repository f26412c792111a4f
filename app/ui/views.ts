// Drawing with regl: one regl per canvas, one draw command per view, textures reused and only
// re-uploaded when a new picture arrived. The frame loop is rAF; stale pictures are never drawn.
import createREGL from 'regl';
import quadVert from '../../shaders/quad.vert';
import outputFrag from '../../shaders/output.frag';
import tapFrag from '../../shaders/tap.frag';
import type { Picture } from './connection.ts';
import type { TapImage } from './tap-math.ts';

const QUAD = [[-1, -1], [1, -1], [-1, 1], [-1, 1], [1, -1], [1, 1]];

/** Letterbox (fit) or crop (fill) a picture's aspect into the canvas. */
function aspectScale(cw: number, ch: number, pw: number, ph: number, fill: boolean): [number, number] {
  const canvas = cw / Math.max(1, ch);
  const pic = pw / Math.max(1, ph);
  const wide = pic > canvas;
  const fit: [number, number] = wide ? [1, canvas / pic] : [pic / canvas, 1];
  const crop: [number, number] = wide ? [pic / canvas, 1] : [1, canvas / pic];
  return fill ? crop : fit;
}

function fitCanvas(canvas: HTMLCanvasElement): void {
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const w = Math.round(canvas.clientWidth * dpr);
  const h = Math.round(canvas.clientHeight * dpr);
  if (canvas.width !== w || canvas.height !== h) (canvas.width = w), (canvas.height = h);
}

export function outputView(canvas: HTMLCanvasElement, opts: () => { fill: boolean; blackout: number }) {
  const regl = createREGL({ canvas, attributes: { preserveDrawingBuffer: true, antialias: false } });
  const tex = regl.texture({ width: 1, height: 1, data: new Uint8Array([0, 0, 0, 255]), mag: 'linear', min: 'linear' });
  let size: [number, number] = [1, 1];
  const draw = regl({
    vert: quadVert,
    frag: outputFrag,
    attributes: { position: QUAD },
    uniforms: {
      picture: tex,
      blackout: () => opts().blackout,
      scale: (ctx: { viewportWidth: number; viewportHeight: number }) => aspectScale(ctx.viewportWidth, ctx.viewportHeight, size[0], size[1], opts().fill),
    },
    count: 6,
    // 2D pictures: no depth test (regl enables it by default, and the quad would fail it on every
    // frame after the first).
    depth: { enable: false },
  });
  return {
    show(p: Picture): void {
      fitCanvas(canvas);
      // A full upload each picture: regl's subimage takes no typed array with a shape.
      tex({ width: p.width, height: p.height, data: p.data as Uint8Array, mag: 'linear', min: 'linear' });
      size = [p.width, p.height];
      regl.poll();
      regl.clear({ color: [0, 0, 0, 1] });
      draw();
    },
    redraw(): void {
      fitCanvas(canvas);
      regl.poll();
      regl.clear({ color: [0, 0, 0, 1] });
      draw();
    },
    destroy: () => regl.destroy(),
  };
}

export function tapView(canvas: HTMLCanvasElement) {
  const regl = createREGL({ canvas, extensions: ['OES_texture_float'], attributes: { preserveDrawingBuffer: true } });
  let tex = regl.texture({ width: 1, height: 1, data: new Float32Array(4), type: 'float', format: 'rgba' });
  let img: TapImage | undefined;
  let colormap = 0;
  const draw = regl({
    vert: quadVert,
    frag: tapFrag,
    attributes: { position: QUAD },
    uniforms: {
      values: () => tex,
      lo: () => img?.lo ?? [0, 0, 0],
      hi: () => img?.hi ?? [1, 1, 1],
      colormap: () => colormap,
      scale: (ctx: { viewportWidth: number; viewportHeight: number }) => aspectScale(ctx.viewportWidth, ctx.viewportHeight, img?.width ?? 1, img?.height ?? 1, false),
    },
    count: 6,
    // 2D pictures: no depth test (regl enables it by default, and the quad would fail it on every
    // frame after the first).
    depth: { enable: false },
  });
  return {
    show(next: TapImage, map: 0 | 1 | 2 | 3): void {
      fitCanvas(canvas);
      img = next;
      colormap = next.components === 3 ? 3 : map;
      // Float textures upload as RGB or luminance; values stay exact, the shader normalises.
      const format = next.components === 3 ? 'rgb' : 'luminance';
      tex.destroy();
      tex = regl.texture({ width: next.width, height: next.height, data: next.data, type: 'float', format, mag: 'nearest', min: 'nearest' });
      regl.poll();
      regl.clear({ color: [0, 0, 0, 1] });
      draw();
    },
    destroy: () => regl.destroy(),
  };
}
