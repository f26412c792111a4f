// netbend's desktop shell (Electron is an optional dependency, so this is plain CommonJS with JSDoc,
// outside the TypeScript check). The main process starts the engine server as a child process and
// opens two windows on it: the control UI on `/`, and a borderless, full-screen output window on a
// chosen display on `/output`, cursor hidden. Pages get no Node: contextIsolation and sandbox are on,
// nodeIntegration off, and the control window's preload exposes three calls (preload.cjs).
//
//   electron app/electron/main.cjs [--display N] <serve args: model.onnx --fps 30 ...>
//
// Everything but --display goes to `netbend serve`, with --no-open --port 0 added; the URL comes
// from the line `netbend: serving http://127.0.0.1:PORT/` the server prints on stdout.
const { app, BrowserWindow, dialog, ipcMain, screen } = require('electron');
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const SERVING = /^netbend: serving (\S+)/m;

/** @param {string[]} argv */
function parseArgs(argv) {
  const own = argv.slice(app.isPackaged ? 1 : 2).filter((a) => a !== '--');
  /** @type {number | undefined} */
  let display;
  /** @type {string[]} */
  const serve = [];
  for (let i = 0; i < own.length; i++) {
    const a = own[i];
    if (a === '--display') display = Number(own[++i]);
    else if (a.startsWith('--display=')) display = Number(a.slice('--display='.length));
    else serve.push(a);
  }
  return { display: Number.isInteger(display) ? display : undefined, serve };
}

const args = parseArgs(process.argv);
/** @type {import('node:child_process').ChildProcess | undefined} */
let server;
/** @type {string | undefined} */
let baseUrl;
/** @type {import('electron').BrowserWindow | null} */
let control = null;
/** @type {import('electron').BrowserWindow | null} */
let output = null;
let quitting = false;

/**
 * Starts `netbend serve` and resolves with the URL it prints. The server runs on the system's Node
 * (NETBEND_NODE, set by `netbend start`, or `node` on PATH), not Electron's.
 * @returns {Promise<string>}
 */
function startServer() {
  return new Promise((resolve, reject) => {
    const node = process.env.NETBEND_NODE || 'node';
    const child = spawn(node, [path.join(root, 'bin', 'netbend.js'), 'serve', ...args.serve, '--no-open', '--port', '0'], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      if (baseUrl) return;
      out += d;
      const m = SERVING.exec(out);
      if (m) resolve((baseUrl = m[1]));
    });
    child.stderr.on('data', (d) => {
      process.stderr.write(d);
      err = (err + d).slice(-4000);
    });
    child.on('error', (e) => reject(new Error(`cannot run ${node}: ${e.message} (set NETBEND_NODE to a Node.js 20+ binary)`)));
    child.on('exit', (code, signal) => {
      if (server === child) server = undefined;
      const tail = err.trim().split('\n').slice(-12).join('\n');
      if (!baseUrl) reject(new Error(`netbend serve exited (${signal ?? code}) before serving:\n${tail}`));
      else if (!quitting) {
        dialog.showErrorBox('netbend', `The engine stopped (${signal ?? code}).\n\n${tail}`);
        app.quit();
      }
    });
  });
}

/** A page of our server, keeping its query (a ?token=... for LAN binds). @param {string} pathname */
function pageUrl(pathname) {
  const u = new URL(/** @type {string} */ (baseUrl));
  u.pathname = pathname;
  return u.toString();
}

/** Our server's pages only: no new windows, no navigating elsewhere. @param {import('electron').BrowserWindow} win */
function lockDown(win) {
  const origin = new URL(/** @type {string} */ (baseUrl)).origin;
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (e, url) => {
    let to = '';
    try {
      to = new URL(url).origin;
    } catch {
      /* not a URL: refused below */
    }
    if (to !== origin) e.preventDefault();
  });
}

const secure = { contextIsolation: true, sandbox: true, nodeIntegration: false };

function openControl() {
  const win = (control = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1100,
    minHeight: 680,
    backgroundColor: '#08090b',
    title: 'netbend',
    autoHideMenuBar: true,
    webPreferences: { ...secure, preload: path.join(__dirname, 'preload.cjs') },
  }));
  lockDown(win);
  win.on('closed', () => {
    control = null;
    app.quit();
  });
  void win.loadURL(pageUrl('/'));
}

/** The output window, full screen on display `index` (the primary one if there is no such display). @param {number} index */
function openOutput(index) {
  const display = screen.getAllDisplays()[index] ?? screen.getPrimaryDisplay();
  closeOutput();
  const { x, y, width, height } = display.bounds;
  const win = (output = new BrowserWindow({
    x,
    y,
    width,
    height,
    frame: false,
    fullscreen: true,
    show: false,
    backgroundColor: '#000000',
    title: 'netbend output',
    autoHideMenuBar: true,
    webPreferences: secure,
  }));
  lockDown(win);
  // The page hides the cursor after 2 s still; on a projector it never shows.
  win.webContents.on('did-finish-load', () => void win.webContents.insertCSS('*, *::before, *::after { cursor: none !important; }'));
  // The page's own keys work here once it is clicked (F this window's fit / fill / stretch, B
  // blackout); opening it leaves the keyboard with the control window, where the show is played.
  win.once('ready-to-show', () => {
    win.setBounds(display.bounds);
    win.setFullScreen(true);
    win.show();
    if (control && !control.isDestroyed()) control.focus();
  });
  win.on('closed', () => {
    if (output === win) output = null;
  });
  void win.loadURL(pageUrl('/output'));
}

function closeOutput() {
  if (output && !output.isDestroyed()) output.close();
  output = null;
}

/** Answers the control window only. @param {import('electron').IpcMainInvokeEvent} e */
function fromControl(e) {
  if (!control || e.sender !== control.webContents) throw new Error('netbend: not allowed from this page');
}

ipcMain.handle('netbend:displays', (e) => {
  fromControl(e);
  const primary = screen.getPrimaryDisplay().id;
  return screen.getAllDisplays().map((d, index) => ({ index, label: d.label || `display ${index + 1}`, width: d.bounds.width, height: d.bounds.height, primary: d.id === primary }));
});
ipcMain.handle('netbend:openOutput', (e, index) => {
  fromControl(e);
  if (!Number.isInteger(index) || index < 0) throw new Error('netbend: the display index must be a whole number from 0');
  openOutput(index);
});
ipcMain.handle('netbend:closeOutput', (e) => {
  fromControl(e);
  closeOutput();
});

function stopServer() {
  quitting = true;
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
}
app.on('before-quit', stopServer);
app.on('will-quit', stopServer);
app.on('window-all-closed', () => app.quit());
process.on('exit', stopServer);

app.whenReady().then(async () => {
  try {
    await startServer();
  } catch (err) {
    dialog.showErrorBox('netbend', `Could not start the engine.\n\n${/** @type {Error} */ (err).message}`);
    stopServer();
    app.exit(1);
    return;
  }
  openControl();
  if (args.display !== undefined) openOutput(args.display);
});
