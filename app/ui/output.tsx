// The clean output: the picture alone, black around, aspect-correct, no chrome. The cursor hides
// after 2 s still; double-click for full screen.
import { connect, latest, params } from './connection.ts';
import { outputView } from './views.ts';

document.body.classList.add('output-page');
const canvas = document.createElement('canvas');
canvas.id = 'output';
document.getElementById('app')!.append(canvas);
const view = outputView(canvas, () => ({ fill: false, blackout: Number(params.value['/netbend/output/blackout']?.value ?? 0) }));
let seen = -1;
let shown: unknown;
const loop = () => {
  requestAnimationFrame(loop);
  if (latest.version === seen) return;
  seen = latest.version;
  if (latest.output && latest.output !== shown) view.show((shown = latest.output) as never);
};
loop();
// Blackout fades redraw the last picture; new pictures come through the loop above.
params.subscribe(() => view.redraw());
window.addEventListener('resize', () => view.redraw());
let idle: number | undefined;
window.addEventListener('mousemove', () => {
  document.body.classList.remove('idle');
  clearTimeout(idle);
  idle = window.setTimeout(() => document.body.classList.add('idle'), 2000);
});
canvas.addEventListener('dblclick', () => (document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen()).catch(() => {}));
connect();
