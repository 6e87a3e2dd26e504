import { useEffect, useState, useSyncExternalStore } from 'react';
import type { EditorController, EditorSnapshot } from './editor/controller';

export function useEditor(c: EditorController): EditorSnapshot {
  return useSyncExternalStore(c.subscribe, c.getSnapshot, c.getSnapshot);
}

export type Theme = 'dark' | 'light';

function initialTheme(): Theme {
  const saved = localStorage.getItem('loram-theme');
  if (saved === 'dark' || saved === 'light') return saved;
  return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

export function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('loram-theme', theme);
  }, [theme]);
  return [theme, setTheme];
}

export function usePersistentState<T>(key: string, initial: T): [T, (v: T) => void] {
  const [v, setV] = useState<T>(() => {
    try {
      const s = localStorage.getItem(key);
      return s === null ? initial : (JSON.parse(s) as T);
    } catch {
      return initial;
    }
  });
  useEffect(() => {
    localStorage.setItem(key, JSON.stringify(v));
  }, [key, v]);
  return [v, setV];
}

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
