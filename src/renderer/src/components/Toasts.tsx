import { useEffect, useRef, useState } from 'react';
import type { Notice } from '../editor/controller';
import { Icon } from './Icon';

/** Errors, refusals and successes as toasts at the top of the canvas; plain info (undo, copy…) on a status line. */
export function Toasts({ notice }: { notice: Notice | null }) {
  const [list, setList] = useState<Notice[]>([]);
  const [status, setStatus] = useState<Notice | null>(null);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  useEffect(() => {
    if (!notice) return;
    const later = (ms: number, f: () => void) => {
      const t = setTimeout(() => {
        timers.current.delete(t);
        f();
      }, ms);
      timers.current.add(t);
    };
    if (notice.kind === 'info') {
      setStatus(notice);
      later(2500, () => setStatus((s) => (s?.seq === notice.seq ? null : s)));
      return;
    }
    setList((l) => [...l.filter((n) => n.text !== notice.text), notice].slice(-3));
    later(notice.kind === 'success' ? 3000 : 7000, () => setList((l) => l.filter((n) => n.seq !== notice.seq)));
  }, [notice]);
  return (
    <>
      <div className="toasts" aria-live="polite">
        {list.map((n) => (
          <div key={n.seq} className={`toast ${n.kind}`} data-testid={`toast-${n.kind}`}>
            {n.kind === 'success' ? <Icon name="check" size={14} /> : <Icon name="warn" size={14} />}
            <span>{n.text}</span>
          </div>
        ))}
      </div>
      {status && (
        <div className="status-line" aria-live="polite" data-testid="status-line">
          {status.text}
        </div>
      )}
    </>
  );
}
