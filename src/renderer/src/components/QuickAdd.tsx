import { useEffect, useMemo, useRef, useState } from 'react';
import type { NodeSpec } from '../../../shared';
import { CATEGORY_LABELS, categoryColor, searchSpecs } from '../editor/catalog';

/** A search box at the pointer: type, arrows to choose, Enter adds the node there. */
export function QuickAdd({ specs, at, onPick, onClose }: { specs: NodeSpec[]; at: { x: number; y: number }; onPick: (type: string) => void; onClose: () => void }) {
  const [q, setQ] = useState('');
  const [i, setI] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const found = useMemo(() => searchSpecs(specs, q), [specs, q]);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => setI(0), [q]);
  const left = Math.min(at.x, window.innerWidth - 340);
  const top = Math.min(at.y, window.innerHeight - 360);
  return (
    <div className="quick-add-backdrop" onMouseDown={onClose}>
      <div className="quick-add" style={{ left, top }} onMouseDown={(e) => e.stopPropagation()} role="dialog" aria-label="Add a node">
        <input
          ref={input}
          value={q}
          placeholder="Add node…"
          data-testid="quick-add-input"
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') onClose();
            else if (e.key === 'ArrowDown') {
              e.preventDefault();
              setI((x) => Math.min(found.length - 1, x + 1));
            } else if (e.key === 'ArrowUp') {
              e.preventDefault();
              setI((x) => Math.max(0, x - 1));
            } else if (e.key === 'Enter' && found[i]) onPick(found[i]!.type);
          }}
        />
        <ul>
          {found.map((s, k) => (
            <li key={s.type} className={k === i ? 'active' : ''} onMouseEnter={() => setI(k)} onClick={() => onPick(s.type)}>
              <span className="qa-cat" style={{ background: categoryColor(s.category) }} />
              <span className="qa-title">{s.title}</span>
              <span className="qa-kind">{CATEGORY_LABELS[s.category]}</span>
              <span className="qa-doc">{s.doc}</span>
            </li>
          ))}
          {found.length === 0 && <li className="muted">Nothing matches.</li>}
        </ul>
      </div>
    </div>
  );
}
