// Event-loop delay: windows that show a stall once and then start over, in the stats every page
// gets, and as read-only OSCQuery parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { LoopDelayMonitor, type LoopDelayWindow } from '../app/server/loop-delay.ts';
import type { ServerMessage } from '../app/core/protocol.ts';
import { fixture, startServe } from './helpers.ts';

async function until(cond: () => boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a stall shows in its window, and the next windows start over', async () => {
  const windows: LoopDelayWindow[] = [];
  const m = new LoopDelayMonitor(200, (w) => windows.push(w));
  try {
    await until(() => windows.length >= 1, 5000, 'a first window');
    const t0 = Date.now();
    while (Date.now() - t0 < 150); // block the loop
    const before = windows.length;
    // The stall lands in the window running then, or the next (timers due during it race).
    await until(() => windows.slice(before).some((w) => w.max >= 100), 5000, `the stall to show (${JSON.stringify(windows.slice(before))})`);
    const stalled = windows.findIndex((w, i) => i >= before && w.max >= 100);
    assert.ok(windows[stalled]!.p99 <= windows[stalled]!.max);
    await until(() => windows.slice(stalled + 1).some((w) => w.max < 100), 5000, 'a window without the stall');
    assert.deepEqual(m.last, windows.at(-1));
  } finally {
    m.stop();
  }
});

test('serve: stats carry the loop delay, and OSCQuery answers it read-only', async () => {
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'));
  try {
    const ws = new WebSocket(s.url.replace(/^http/, 'ws').replace(/\/(\?|$)/, '/ws$1'));
    const stats: Extract<ServerMessage, { type: 'stats' }>[] = [];
    const params = new Map<string, unknown>();
    ws.on('message', (d, binary) => {
      if (binary) return;
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'stats') stats.push(m);
      if (m.type === 'param') params.set(m.address, m.value);
    });
    await until(() => stats.length >= 3, 20_000, 'stats');
    const { loopDelay } = stats.at(-1)!.stats;
    assert.equal(typeof loopDelay.p99, 'number');
    assert.equal(typeof loopDelay.max, 'number');
    assert.ok(loopDelay.p99 >= 0 && loopDelay.p99 <= loopDelay.max, JSON.stringify(loopDelay));
    const base = s.url.replace(/\/$/, '');
    for (const name of ['loop_delay_p99', 'loop_delay_max']) {
      const node = (await (await fetch(`${base}/netbend/stats/${name}`)).json()) as { TYPE: string; ACCESS: number; VALUE: [number]; UNIT: [string] };
      assert.equal(node.TYPE, 'f');
      assert.equal(node.ACCESS, 1, 'read-only');
      assert.deepEqual(node.UNIT, ['ms']);
      assert.equal(typeof node.VALUE[0], 'number');
    }
    // The engine sets them each window; a page sees them change like any parameter.
    await until(() => params.has('/netbend/stats/loop_delay_max'), 20_000, 'a loop delay parameter change on the page');
    ws.close();
  } finally {
    await s.stop();
  }
});

test('the control page shows the loop delay next to fps and dropped', { skip: (await import('./ui-helpers.ts')).noChromium }, async (t) => {
  const { servePage } = await import('./ui-helpers.ts');
  const { page } = await servePage(t, fixture('stylegan2-64-tiny.onnx'));
  const stat = page.locator('#stats #stat-loop');
  await stat.waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('#stats > .stat').evaluateAll((els) => els.map((e) => e.id).indexOf('stat-loop') - els.map((e) => e.id).indexOf('stat-dropped')), 1, 'right after dropped');
  // p99/max in ms, as the stats carry them (two numbers once the first stats arrived).
  await page.waitForFunction(() => /^\d+(\.\d)?\/\d+(\.\d)?$/.test(document.querySelector('#stat-loop b')?.textContent ?? ''), null, { timeout: 20_000 });
  assert.match((await stat.textContent()) ?? '', /ms loop/);
});
