// The clean output: the picture alone, no chrome, in the scene's fit mode (/netbend/output/fit) or
// this window's own (?fit=fit|fill|stretch, or F here). The cursor hides after 2 s without moving.
// Keys: F cycles this window's mode fit → fill → stretch (back on the scene's mode it follows the
// scene again); B blackout (the scene's: every window fades); Esc leaves full screen, double-click
// toggles it (a browser window; the Electron output window is full screen by itself).
import { connect, currentValue, debugDrawn, latest, onFrame, setParam } from './connection.ts';
import { asFitMode, nextFitMode, OutputView, sceneBlackout, sceneFit } from './output-view.ts';
import { announceShape } from './output-link.ts';
import { BLACKOUT, type FitMode } from '../core/addresses.ts';

const query = new URLSearchParams(location.search);
/** This window's own mode; undefined follows the scene. ?fill=1 is the old spelling of ?fit=fill. */
let override: FitMode | undefined = asFitMode(query.get('fit')) ?? (query.get('fill') === '1' ? 'fill' : undefined);
const mode = () => override ?? sceneFit();

document.title = 'netbend output';
document.body.classList.add('output-page', 'idle');
const canvas = document.createElement('canvas');
canvas.id = 'output';
const flash = document.createElement('div');
flash.id = 'output-flash';
flash.className = 'output-flash';
flash.setAttribute('role', 'status');
document.getElementById('app')!.append(canvas, flash);

const view = new OutputView(canvas, { mode, ...sceneBlackout });
onFrame((now) => {
  view.frame(now, latest.output);
  debugDrawn.output = view.shownIndex;
  debugDrawn.pictures = view.pictures;
  debugDrawn.side = view.drawnSide;
  debugDrawn.blackout = view.blackout;
  debugDrawn.fit = view.mode ?? '';
  debugDrawn.box = view.box;
});

let flashTimer: number | undefined;
/** A word on screen for a second (what a key just did). */
function say(text: string): void {
  flash.textContent = text;
  flash.classList.add('on');
  clearTimeout(flashTimer);
  flashTimer = window.setTimeout(() => flash.classList.remove('on'), 1200);
}

/** This window's mode goes into its URL, so a reload keeps it. */
function remember(): void {
  const q = new URLSearchParams(location.search);
  q.delete('fill');
  if (override) q.set('fit', override);
  else q.delete('fit');
  const s = q.toString();
  history.replaceState(null, '', `${location.pathname}${s ? `?${s}` : ''}${location.hash}`);
}

const inShell = /\bElectron\//.test(navigator.userAgent);
function fullscreen(on: boolean): void {
  if (inShell || on === !!document.fullscreenElement) return;
  (on ? document.documentElement.requestFullscreen({ navigationUI: 'hide' }) : document.exitFullscreen()).catch(() => {});
}

window.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (k === 'f') {
    const next = nextFitMode(mode());
    override = next === sceneFit() ? undefined : next;
    remember();
    say(override ? `${next} · this window` : `${next} · as the scene`);
  } else if (k === 'b') setParam(BLACKOUT, Number(currentValue(BLACKOUT) ?? 0) > 0.5 ? 0 : 1);
  else if (k === 'Escape') fullscreen(false);
  else return;
  e.preventDefault();
});

let idle: number | undefined;
const wake = () => {
  document.body.classList.remove('idle');
  clearTimeout(idle);
  idle = window.setTimeout(() => document.body.classList.add('idle'), 2000);
};
window.addEventListener('pointermove', wake);
window.addEventListener('pointerdown', wake);
window.addEventListener('dblclick', () => fullscreen(!document.fullscreenElement));
announceShape();
connect();
