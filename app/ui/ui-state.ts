// The page's own state (how things are shown, never what the engine does). View preferences
// persist in localStorage so a reload during a show comes back the same.
import { effect, signal, type Signal } from '@preact/signals';
import type { Colormap, TapMode } from './tap-view.ts';

function persisted<T>(key: string, initial: T, valid: (v: unknown) => boolean): Signal<T> {
  let start = initial;
  try {
    const raw = localStorage.getItem(`netbend.${key}`);
    if (raw !== null) {
      const v = JSON.parse(raw) as unknown;
      if (valid(v)) start = v as T;
    }
  } catch {
    // Private mode or a stale value: the default will do.
  }
  const s = signal(start);
  effect(() => {
    try {
      localStorage.setItem(`netbend.${key}`, JSON.stringify(s.value));
    } catch {
      /* not persisted, still works */
    }
  });
  return s;
}

export type Tab = 'model' | 'sources' | 'mods' | 'params' | 'midi' | 'learn' | 'audio';

export const tapMode = persisted<TapMode>('tapMode', 'grid', (v) => v === 'grid' || v === 'channel' || v === 'pca');
export const tapMap = persisted<Colormap>('tapMap', 1, (v) => v === 0 || v === 1 || v === 2);
export const tab = persisted<Tab>('tab', 'model', (v) => v === 'model' || v === 'sources' || v === 'mods' || v === 'params' || v === 'midi' || v === 'learn' || v === 'audio');
export const morphSeconds = persisted('morph', 0, (v) => typeof v === 'number' && v >= 0 && v <= 600);
/** Layer tree folders the performer opened or closed (path -> open). */
export const treeOpen = persisted<Record<string, boolean>>('treeOpen', {}, (v) => typeof v === 'object' && v !== null);
export const tapChannel = signal(0);
/** The layer shown in the layer view ('' = none); follows the engine's taps. */
export const tapLayer = signal('');
export const help = signal(false);
/** The preset this page loaded last (highlighted). */
export const activePreset = signal<string | null>(null);
export const paramFilter = signal('');
/** The parameter whose modulator editor is open under its row, if any. */
export const modEditing = signal<string | null>(null);
/** Models played from the page lately, newest first. */
export const recentModels = persisted<string[]>('recentModels', [], (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'));
/** One cell of the layer wall: its own layer (null: follows the selected layer), view mode and colormap. */
export interface WallCell {
  layer: string | null;
  mode: TapMode;
  map: Colormap;
  /** The channel a 'channel' view shows. */
  channel?: number;
}
/** The layer wall: up to 9 layer views at once, instead of the one layer view. */
export const wall = persisted<{ on: boolean; cells: WallCell[] }>(
  'wall',
  { on: false, cells: [] },
  (v) => typeof v === 'object' && v !== null && Array.isArray((v as { cells?: unknown }).cells) && (v as { cells: unknown[] }).cells.length <= 9,
);
export const WALL_MAX = 9;
/** Whether the model browser's list is unfolded (folded, the model tab starts with the partner and edits). */
export const browserOpen = persisted('browserOpen', false, (v) => typeof v === 'boolean');
