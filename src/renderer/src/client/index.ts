/**
 * Which shell are we in? Electron's preload exposes `window.loram`; otherwise we are the web shell's page and
 * talk to the server that served us, with the token from the URL (kept in sessionStorage, then removed from
 * the address bar so it does not end up in screenshots or shared links).
 */
import type { LoramBridge } from '../../../shared/shell-contract';
import { createWebBridge } from './web';

declare global {
  interface Window {
    loram?: LoramBridge;
  }
}

const TOKEN_KEY = 'loram-token';

export function connectBridge(onConnection?: (connected: boolean) => void): LoramBridge {
  if (window.loram) return window.loram;
  const url = new URL(window.location.href);
  let token = url.searchParams.get('token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + (url.search ? url.search : '') + url.hash);
  } else {
    token = sessionStorage.getItem(TOKEN_KEY);
  }
  return createWebBridge({ origin: window.location.origin, token: token ?? '', onConnection });
}
