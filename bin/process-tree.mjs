/**
 * A child process and everything it starts, stopped as one. On POSIX the child leads a process group of its own
 * (its descendants inherit it) and signals go to the whole group; on Windows `taskkill /T` walks the tree.
 *
 * `npm start` needs this: npm passes a SIGTERM on to its `sh -c` only, which dies without passing it further,
 * so the launcher is orphaned and must notice that itself; and a signal to the launcher alone used to reach
 * its child but not the child's own children.
 */
import { spawn, spawnSync } from 'node:child_process';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const isWindows = process.platform === 'win32';

/** `spawn`, with the child as the root of a tree that signalTree reaches as a whole. */
export function spawnTree(command, args, options = {}) {
  // No `detached` on Windows: there it means a new console window, and taskkill /T finds the tree anyway.
  return spawn(command, args, { ...options, detached: !isWindows });
}

/** Send `signal` to the child and all its descendants; nothing happens when they are already gone. */
export function signalTree(child, signal) {
  if (child.pid === undefined) return;
  if (isWindows) {
    spawnSync('taskkill', ['/pid', String(child.pid), '/T', ...(signal === 'SIGKILL' ? ['/F'] : [])], { stdio: 'ignore' });
    return;
  }
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is empty
  }
}

/**
 * Tie the tree's life to this process: a stop signal to us, or our parent going away, stops the whole tree
 * (SIGKILL after `graceMs` for what is still there); when the child exits, what it left behind is killed and
 * we exit with its code.
 */
export function superviseTree(child, { graceMs = 5000, parentPollMs = 500 } = {}) {
  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    // The child's handlers know SIGINT and SIGTERM; a hang-up means the same as SIGTERM here.
    signalTree(child, signal === 'SIGHUP' ? 'SIGTERM' : signal);
    setTimeout(() => signalTree(child, 'SIGKILL'), graceMs).unref();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => stop(signal));
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid !== parent) stop('SIGTERM');
  }, parentPollMs);
  parentWatch.unref();
  child.on('exit', (code, signal) => {
    clearInterval(parentWatch);
    signalTree(child, 'SIGKILL');
    process.exit(code ?? (signal ? 1 : 0));
  });
}
