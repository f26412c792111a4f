// The narrow bridge between the sandboxed pages and the shell: list displays, open or close the
// output window. Nothing else of Electron or Node reaches the page.
const { contextBridge, ipcRenderer } = require('electron');

contextBridge.exposeInMainWorld('netbendShell', {
  displays: () => ipcRenderer.invoke('netbend:displays'),
  openOutput: (displayIndex) => ipcRenderer.invoke('netbend:openOutput', displayIndex),
  closeOutput: () => ipcRenderer.invoke('netbend:closeOutput'),
});
