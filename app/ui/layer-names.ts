// Layers as the page names them: the tree flattened with depths, shapes as text.
import type { LayerInfo } from '../core/protocol.ts';

export function flatLayers(ls: LayerInfo[], depth = 0): Array<LayerInfo & { depth: number }> {
  return ls.flatMap((l) => [{ ...l, depth }, ...flatLayers(l.children, depth + 1)]);
}

/** "128×84×84" from a layer's output shape (batch dropped). */
export function shapeText(shape: ReadonlyArray<number | string> | undefined): string {
  if (!shape?.length) return '';
  const dims = shape.length > 1 && shape[0] === 1 ? shape.slice(1) : shape;
  return dims.join('×');
}

/** A layer as a picker lists it: indented by depth, its last name, its shape. */
export function layerOptionText(l: LayerInfo & { depth: number }): string {
  return '\u2002'.repeat(l.depth) + l.path.split('.').pop() + (l.shape ? `  ${shapeText(l.shape)}` : '');
}
