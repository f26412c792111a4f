// Which channels of a map an op touches, written as performers type it: `all`, `share:0.3` (a
// seeded random share), `range:0-15`, `list:1,5,9`, `cluster:2` (channels that carry similar
// features, found by k-means over sampled activations) or `pc:0` / `pc:0:16` (the channels that
// load most on a principal component; 16 of them, or a quarter of the map by default).
import { ablatedChannels } from './edit-ops.ts';

export type ChannelSelection =
  | { kind: 'all' }
  | { kind: 'share'; share: number }
  | { kind: 'range'; from: number; to: number }
  | { kind: 'list'; channels: number[] }
  | { kind: 'cluster'; cluster: number }
  | { kind: 'pc'; component: number; count: number | undefined };

/** The form a selection parameter accepts at every edge (the registry checks it). */
export const CHANNELS_PATTERN = 'all|share:(?:0|1|0?\\.\\d{1,6}|1\\.0{1,6})|range:\\d{1,5}-\\d{1,5}|list:\\d{1,5}(?:,\\d{1,5}){0,1023}|cluster:\\d{1,3}|pc:\\d{1,3}(?::\\d{1,5})?';

export const CHANNELS_HINT = 'all, share:<0..1>, range:<a>-<b>, list:<a>,<b>,..., cluster:<k> or pc:<i>[:<count>]';

export function parseChannels(text: string): ChannelSelection {
  const s = text.trim();
  if (!new RegExp(`^(?:${CHANNELS_PATTERN})$`).test(s)) throw new Error(`channels "${text.slice(0, 60)}": use all, share:<0..1>, range:<a>-<b>, list:<a>,<b>,..., cluster:<k> or pc:<i>[:<count>]`);
  const [kind, arg = ''] = s.split(/:(.*)/s) as [string, string?];
  if (kind === 'share') return { kind, share: Number(arg) };
  if (kind === 'range') {
    const [a, b] = arg.split('-').map(Number) as [number, number];
    return { kind, from: Math.min(a, b), to: Math.max(a, b) };
  }
  if (kind === 'list') return { kind, channels: [...new Set(arg.split(',').map(Number))] };
  if (kind === 'cluster') return { kind, cluster: Number(arg) };
  if (kind === 'pc') {
    const [component, count] = arg.split(':').map(Number) as [number, number?];
    return { kind, component, count };
  }
  return { kind: 'all' };
}

/** What a layer's channels are grouped into, for `cluster:` and `pc:` (see channel-groups.ts). */
export interface ChannelGroupsLike {
  clusters: number[][];
  components: number[][];
}

/**
 * The channel indices a selection means on a map of `channels`, sorted; null means all of them.
 * Indices past the map are dropped (a list typed for a wider layer still works on a narrower one);
 * cluster and pc selections are empty until the layer's groups are known.
 */
export function resolveChannels(sel: ChannelSelection, channels: number, seed: number, groups: ChannelGroupsLike | undefined): number[] | null {
  const inMap = (c: number) => c >= 0 && c < channels;
  switch (sel.kind) {
    case 'all':
      return null;
    case 'share':
      return ablatedChannels(channels, sel.share, seed).sort((a, b) => a - b);
    case 'range': {
      const out: number[] = [];
      for (let c = sel.from; c <= Math.min(sel.to, channels - 1); c++) out.push(c);
      return out;
    }
    case 'list':
      return sel.channels.filter(inMap).sort((a, b) => a - b);
    case 'cluster':
      return [...(groups?.clusters[sel.cluster] ?? [])].sort((a, b) => a - b);
    case 'pc': {
      const ranked = groups?.components[sel.component] ?? [];
      return ranked.slice(0, sel.count ?? Math.max(1, Math.round(channels / 4))).sort((a, b) => a - b);
    }
  }
}
