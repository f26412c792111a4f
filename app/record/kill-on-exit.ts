/**
 * Last resort for encoders still alive when the process exits (an uncaught error, a process.exit()
 * that did not wait for close()): ffmpeg runs in its own process group so that a Ctrl+C does not
 * cut a fragment, which also means nothing else would end it. SIGKILL, because an exit handler
 * cannot wait: the fragmented partial stays playable up to its last complete fragment.
 */
const alive = new Set<number>();
let hooked = false;

function killAll(): void {
  for (const pid of alive) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kill `pid` if this process exits while it runs; call the returned function once it has exited. */
export function killOnExit(pid: number): () => void {
  if (!hooked) {
    hooked = true;
    process.on('exit', killAll);
  }
  alive.add(pid);
  return () => alive.delete(pid);
}
