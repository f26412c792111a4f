// The layers the page wants tapped: the selected one (the layer view, and wall cells that follow
// it) and every wall cell's own. One place asks the engine for them, so no view drops another's.
import { run } from './connection.ts';
import { tapLayer, wall } from './ui-state.ts';

export function wantedTaps(): string[] {
  const own = wall.value.on ? wall.value.cells.map((c) => c.layer).filter((l): l is string => !!l) : [];
  return [...new Set([tapLayer.value, ...own].filter(Boolean))];
}

export function syncTaps(): void {
  run({ cmd: 'setTaps', layers: wantedTaps() });
}
