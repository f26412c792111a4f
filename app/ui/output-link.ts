// Output windows of this browser (/output tabs and windows of the same origin, the Electron output
// window beside the control window) tell the control page their shape over a BroadcastChannel, so
// the preview frames the picture as the newest of them shows it: a 16:9 projector window in fill
// crops top and bottom in the preview too. Windows the page cannot hear (another browser, another
// machine) leave the preview filling its own pane.
import { signal } from '@preact/signals';

const CHANNEL = 'netbend-output';

type Message = { kind: 'shape'; id: string; width: number; height: number } | { kind: 'gone'; id: string } | { kind: 'ask' };

const channel = (): BroadcastChannel | undefined => (typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(CHANNEL));

/** Called by an output window: says its shape now, on every resize, when asked, and when it goes. */
export function announceShape(): void {
  const ch = channel();
  if (!ch) return;
  const id = Math.random().toString(36).slice(2);
  const post = () => ch.postMessage({ kind: 'shape', id, width: window.innerWidth, height: window.innerHeight } satisfies Message);
  ch.onmessage = (e: MessageEvent<Message>) => e.data?.kind === 'ask' && post();
  window.addEventListener('resize', post);
  window.addEventListener('pageshow', post);
  window.addEventListener('pagehide', () => ch.postMessage({ kind: 'gone', id } satisfies Message));
  post();
}

/** The shape of the output window heard from last (in CSS pixels); undefined while none is open. */
export const outputWindow = signal<{ width: number; height: number } | undefined>(undefined);

/** Called by the control page: follows the output windows' shapes into `outputWindow`. */
export function watchShapes(): () => void {
  const ch = channel();
  if (!ch) return () => {};
  // Insertion order is the order heard from: the newest last.
  const windows = new Map<string, { width: number; height: number }>();
  ch.onmessage = (e: MessageEvent<Message>) => {
    const m = e.data;
    if (m?.kind === 'shape' && typeof m.id === 'string' && Number.isFinite(m.width) && Number.isFinite(m.height) && m.width > 0 && m.height > 0) {
      windows.delete(m.id);
      windows.set(m.id, { width: Math.round(m.width), height: Math.round(m.height) });
    } else if (m?.kind === 'gone') windows.delete(m.id);
    else return;
    const last = [...windows.values()].pop();
    const cur = outputWindow.peek();
    if (last?.width !== cur?.width || last?.height !== cur?.height) outputWindow.value = last;
  };
  ch.postMessage({ kind: 'ask' } satisfies Message);
  return () => ch.close();
}
