// netbend's desktop shell (Electron is an optional dependency). The main process starts the engine
// server as a child process and opens two windows on it: the control UI, and a borderless, full
// screen output window on a chosen display. Pages get no Node: contextIsolation and sandbox are
// on, and the preload exposes three calls.
const { app, BrowserWindow, ipcMain, screen } = require('electron');
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const args = process.argv.slice(app.isPackaged ? 1 : 2).filter((a) => !a.startsWith('--display='));
const displayArg = process.argv.find((a) => a.startsWith('--display='));
let server;
let control;
let output;

function startServer() {
  return new Promise((resolve, reject) => {
    // The server runs on the system's Node, not Electron's: onnxruntime-node is built for it.
    server = spawn(process.env.NETBEND_NODE || 'node', [path.join(root, 'bin', 'netbend.js'), 'serve', ...args, '--no-open', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /netbend: serving (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`netbend server exited (${code})`)));
  });
}

const secure = { contextIsolation: true, sandbox: true, nodeIntegration: false, preload: path.join(__dirname, 'preload.cjs') };

function openOutput(url, index) {
  const displays = screen.getAllDisplays();
  const d = displays[Math.min(Math.max(0, index), displays.length - 1)];
  output?.close();
  output = new BrowserWindow({ x: d.bounds.x, y: d.bounds.y, width: d.bounds.width, height: d.bounds.height, frame: false, fullscreen: true, backgroundColor: '#000000', webPreferences: secure });
  output.loadURL(url.replace(/\/(\?|$)/, '/output$1'));
  output.on('closed', () => (output = undefined));
}

app.whenReady().then(async () => {
  const url = await startServer();
  control = new BrowserWindow({ width: 1440, height: 900, backgroundColor: '#0b0c0e', title: 'netbend', webPreferences: secure });
  control.loadURL(url);
  ipcMain.handle('netbend:displays', () => screen.getAllDisplays().map((d, i) => ({ index: i, label: d.label || `display ${i + 1}`, width: d.bounds.width, height: d.bounds.height, primary: d.id === screen.getPrimaryDisplay().id })));
  ipcMain.handle('netbend:openOutput', (_e, index) => openOutput(url, Number(index) || 0));
  ipcMain.handle('netbend:closeOutput', () => output?.close());
  if (displayArg) openOutput(url, Number(displayArg.split('=')[1]));
  control.on('closed', () => app.quit());
});

app.on('will-quit', () => server?.kill('SIGTERM'));
