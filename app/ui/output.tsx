// The clean output: the picture alone, black around, aspect-correct, no chrome. The cursor hides
// after 2 s without moving; double-click toggles full screen. ?fill=1 crops to fill instead.
import { connect, debugDrawn, latest, onFrame, currentValue } from './connection.ts';
import { OutputView } from './output-view.ts';
import { BLACKOUT } from '../core/addresses.ts';

const fill = new URLSearchParams(location.search).get('fill') === '1';

document.title = 'netbend output';
document.body.classList.add('output-page', 'idle');
const canvas = document.createElement('canvas');
canvas.id = 'output';
document.getElementById('app')!.append(canvas);

const view = new OutputView(canvas, { fill: () => fill, blackout: () => Number(currentValue(BLACKOUT) ?? 0) });
onFrame((now) => {
  view.frame(now, latest.output);
  debugDrawn.output = view.shownIndex;
});

let idle: number | undefined;
const wake = () => {
  document.body.classList.remove('idle');
  clearTimeout(idle);
  idle = window.setTimeout(() => document.body.classList.add('idle'), 2000);
};
window.addEventListener('pointermove', wake);
window.addEventListener('pointerdown', wake);
window.addEventListener('dblclick', () => {
  const p = document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen({ navigationUI: 'hide' });
  p.catch(() => {});
});
connect();
