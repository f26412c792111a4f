// Steps for tests that drive an in-process show (LiveSession on loopback ports): an OSC message in,
// and the take file a stopped recording saved.
import { OSC } from '../app/io/osc-server.ts';
import type { LiveSession } from '../app/server/live-session.ts';
import type { LoopbackOsc } from './loopback-ports.ts';

/**
 * Sends one message and waits for what it started. A machine too busy to give OSC its share of a
 * turn drops datagrams (counted); such a drop is sent again, unless `once` (a test counting them).
 */
export async function sendOsc(session: LiveSession, osc: LoopbackOsc, address: string, types: string, args: Array<number | string>, once = false): Promise<void> {
  const m = new OSC.Message(address);
  [m.types, m.args] = [types, args];
  for (let tries = 0; tries < 10; tries++) {
    const dropped = session.osc!.stats.dropped;
    osc.deliver(m.pack());
    await session.scene.actions.queue.idle();
    // A refused move is counted when its promise settles: after the microtasks now queued.
    await new Promise((r) => setImmediate(r));
    if (once || session.osc!.stats.dropped === dropped) return;
  }
  throw new Error(`${address} dropped ten times`);
}

/** The take file named by the notice a stopped recording gives once its log is written. */
export function takeSaved(notices: readonly string[], ms = 30_000): Promise<string> {
  return new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no take saved: ${notices.join(' | ')}`)), ms);
    const check = () => {
      const m = notices.map((n) => /performance log saved to (.+?): render/.exec(n)).find(Boolean);
      if (m) return (clearTimeout(timer), ok(m[1]!));
      setTimeout(check, 20);
    };
    check();
  });
}
