import { useCallback, type MouseEvent as ReactMouseEvent } from 'react';
import { usePersistentState } from '../hooks';

/** The height of the bottom panel, dragged on the splitter above it and kept between sessions. */
export function useSplitter(): { height: number; startResize: (e: ReactMouseEvent) => void } {
  const [height, setHeight] = usePersistentState('loram-bottom-height', 290);
  const startResize = useCallback(
    (e: ReactMouseEvent) => {
      e.preventDefault(); // a drag, not a text selection across the canvas
      const y0 = e.clientY;
      const h0 = height;
      const move = (m: MouseEvent) => setHeight(Math.max(120, Math.min(window.innerHeight - 200, h0 + (y0 - m.clientY))));
      const up = () => {
        window.removeEventListener('mousemove', move);
        window.removeEventListener('mouseup', up);
      };
      window.addEventListener('mousemove', move);
      window.addEventListener('mouseup', up);
    },
    [height, setHeight],
  );
  return { height, startResize };
}
