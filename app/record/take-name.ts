/**
 * File names for live takes. A show can start several takes within one second (a toggle storm,
 * a flaky foot switch), so a name carries the time to the millisecond plus a per-process counter,
 * and a name whose file (or crash-safe partial) already exists is never handed out.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { partialPathFor, type RecordFormat } from './formats.ts';

const EXT: Record<RecordFormat, string> = { h264: '.mp4', prores: '.mov', hap: '.mov', png: '' };

/** Takes named by this process so far: two takes in the same millisecond still differ. */
let takesNamed = 0;

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** `dir/netbend-2026-12-01T19-40-36-123-001.mp4`: a name no file in `dir` has yet. */
export async function nextTakePath(dir: string, format: RecordFormat, now: Date = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  for (;;) {
    const take = join(dir, `netbend-${stamp}-${String(++takesNamed).padStart(3, '0')}${EXT[format]}`);
    if (!(await exists(take)) && !(await exists(partialPathFor(take, format)))) return take;
  }
}
