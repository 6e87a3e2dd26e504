import { useMemo, useState, type DragEvent } from 'react';
import type { NodeSpec } from '../../../shared';
import { categoryColor, groupByCategory, portColor, searchSpecs } from '../editor/catalog';
import { DND_MIME } from './Canvas';
import { Icon } from './Icon';

function PortChips({ spec }: { spec: NodeSpec }) {
  return (
    <span className="port-chips">
      {spec.inputs.map((p) => (
        <span key={`i-${p.name}`} className="chip in" style={{ background: portColor(p.type) }} title={`in: ${p.title} (${p.type})`} />
      ))}
      {spec.inputs.length > 0 && spec.outputs.length > 0 && <span className="chip-arrow">→</span>}
      {spec.outputs.map((p) => (
        <span key={`o-${p.name}`} className="chip out" style={{ background: portColor(p.type) }} title={`out: ${p.title} (${p.type})`} />
      ))}
    </span>
  );
}

export function PaletteItem({ spec, onAdd }: { spec: NodeSpec; onAdd: (type: string) => void }) {
  const onDragStart = (e: DragEvent) => {
    e.dataTransfer.setData(DND_MIME, spec.type);
    e.dataTransfer.setData('text/plain', spec.type);
    e.dataTransfer.effectAllowed = 'copy';
  };
  return (
    <div
      className="palette-item"
      draggable
      onDragStart={onDragStart}
      onDoubleClick={() => onAdd(spec.type)}
      title={`${spec.doc}\n\nDrag onto the canvas, or double-click to add.`}
      data-testid={`palette-${spec.type}`}
      role="button"
      tabIndex={0}
      onKeyDown={(e) => e.key === 'Enter' && onAdd(spec.type)}
      style={{ ['--cat' as string]: categoryColor(spec.category) }}
    >
      <div className="palette-item-head">
        <span className="palette-title">{spec.title}</span>
        <PortChips spec={spec} />
      </div>
      <div className="palette-doc">{spec.doc}</div>
    </div>
  );
}

export function Palette({ specs, onAdd, collapsed, setCollapsed }: { specs: NodeSpec[]; onAdd: (type: string) => void; collapsed: boolean; setCollapsed: (c: boolean) => void }) {
  const [query, setQuery] = useState('');
  const found = useMemo(() => searchSpecs(specs, query), [specs, query]);
  const groups = useMemo(() => (query.trim() ? null : groupByCategory(specs)), [specs, query]);
  if (collapsed) {
    return (
      <aside className="palette panel collapsed" aria-label="Node palette (collapsed)">
        <button className="icon-btn rail-btn" onClick={() => setCollapsed(false)} title="Show the node palette" data-testid="palette-expand">
          <Icon name="chevronRight" />
        </button>
        <div className="rail-label">Nodes</div>
      </aside>
    );
  }
  return (
    <aside className="palette panel" aria-label="Node palette">
      <div className="panel-title with-action">
        <span>Nodes</span>
        <button className="icon-btn" onClick={() => setCollapsed(true)} title="Hide the palette (more room for the graph)" data-testid="palette-collapse">
          <Icon name="chevronLeft" size={14} />
        </button>
      </div>
      <label className="search-box">
        <Icon name="search" size={14} />
        <input placeholder="Search nodes…" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="Search nodes" data-testid="palette-search" />
      </label>
      <div className="palette-list">
        {groups
          ? groups.map((g) => (
              <section key={g.category} className="palette-group">
                <h3 style={{ ['--cat' as string]: categoryColor(g.category) }}>{g.label}</h3>
                {g.specs.map((s) => (
                  <PaletteItem key={s.type} spec={s} onAdd={onAdd} />
                ))}
              </section>
            ))
          : found.map((s) => <PaletteItem key={s.type} spec={s} onAdd={onAdd} />)}
        {!groups && found.length === 0 && <p className="muted pad">No node matches “{query}”.</p>}
      </div>
      <div className="palette-legend">
        {['model', 'dataset', 'adapter', 'metrics'].map((t) => (
          <span key={t}>
            <span className="chip" style={{ background: portColor(t) }} /> {t}
          </span>
        ))}
      </div>
    </aside>
  );
}
