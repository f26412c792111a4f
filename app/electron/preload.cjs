// The narrow bridge between the sandboxed control page and the shell: list displays, open or close
// the output window. Nothing else of Electron or Node reaches the page. CommonJS: sandboxed preloads
// cannot be ES modules. Exposed as `netbendShell` (the page's own `netbend` global is its debug
// handle for tests and benches); the page shows a display picker when it is there.
const { contextBridge, ipcRenderer } = require('electron');

contextBridge.exposeInMainWorld('netbendShell', {
  /** @returns {Promise<Array<{ index: number, label: string, width: number, height: number, primary: boolean }>>} */
  displays: () => ipcRenderer.invoke('netbend:displays'),
  /** @param {number} displayIndex */
  openOutput: (displayIndex) => ipcRenderer.invoke('netbend:openOutput', Number(displayIndex)),
  closeOutput: () => ipcRenderer.invoke('netbend:closeOutput'),
});
