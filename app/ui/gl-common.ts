// What the regl views share: the full-canvas quad, canvas sizing, and fit/fill/stretch aspect maths.
import type { FitMode } from '../core/addresses.ts';

export const QUAD = [
  [-1, -1],
  [1, -1],
  [-1, 1],
  [-1, 1],
  [1, -1],
  [1, 1],
];

/**
 * The quad's scale for a picture of pw x ph in a canvas of cw x ch: fit letterboxes (the whole
 * picture, black around), fill crops (the whole canvas covered, the picture's edges cut), stretch
 * covers the canvas with the whole picture, its aspect ignored.
 */
export function aspectScale(cw: number, ch: number, pw: number, ph: number, mode: FitMode): [number, number] {
  if (mode === 'stretch') return [1, 1];
  const canvas = cw / Math.max(1, ch);
  const pic = pw / Math.max(1, ph);
  const wide = pic > canvas;
  if (mode === 'fill') return wide ? [pic / canvas, 1] : [1, canvas / pic];
  return wide ? [1, canvas / pic] : [pic / canvas, 1];
}

/** Keeps the drawing buffer at the element's size in device pixels; true when it changed. */
export function fitCanvas(canvas: HTMLCanvasElement): boolean {
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width === w && canvas.height === h) return false;
  canvas.width = w;
  canvas.height = h;
  return true;
}
