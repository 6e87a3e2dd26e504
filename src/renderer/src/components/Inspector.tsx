import { useEffect, useMemo, useState } from 'react';
import { SweepSection } from './SweepSection';
import type { NodeSpec, RecipeNode, ValidationError } from '../../../shared';
import { categoryColor, CATEGORY_LABELS, portColor } from '../editor/catalog';
import type { EditorController, EditorSnapshot } from '../editor/controller';
import { checkField, errorsByField, fieldsFromSchema, fieldText, parseFieldText, rangeText, typedTextError, type FieldSpec } from '../editor/schema-form';
import { formatDuration, formatMetric } from '../editor/run-state';
import { Icon } from './Icon';

interface FieldProps {
  field: FieldSpec;
  value: unknown;
  engineErrors: string[];
  onChange: (v: unknown) => void;
  onCommitEnd: () => void;
  nodeId: string;
}

/** A text-like input that keeps what is typed (even half-typed numbers) and commits every parseable value. */
function TextField({ field, value, onChange, onCommitEnd, id, list }: { field: FieldSpec; value: unknown; onChange: (v: unknown) => void; onCommitEnd: () => void; id: string; list?: string }) {
  const [text, setText] = useState(() => fieldText(field, value));
  const [focused, setFocused] = useState(false);
  const [parseError, setParseError] = useState<string | null>(null);
  useEffect(() => {
    if (!focused) setText(fieldText(field, value));
  }, [value, focused, field]);
  const numeric = field.kind === 'number' || field.kind === 'integer';
  return (
    <>
      <input
        id={id}
        type="text"
        inputMode={numeric ? 'decimal' : undefined}
        spellCheck={false}
        value={text}
        list={list}
        placeholder={field.default === undefined ? (field.required ? 'required' : 'auto') : undefined}
        className={numeric ? 'num' : undefined}
        onFocus={() => setFocused(true)}
        onBlur={() => {
          setFocused(false);
          // Text that is not a value is not dropped silently: say what was kept.
          setParseError(parseError ? `${parseError}; kept ${fieldText(field, value) || 'the default'}` : null);
          setText(fieldText(field, value));
          onCommitEnd();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
          if (e.key === 'Escape') {
            setText(fieldText(field, value));
            (e.target as HTMLInputElement).blur();
          }
        }}
        onChange={(e) => {
          setText(e.target.value);
          const p = parseFieldText(field, e.target.value);
          if (!p.ok) setParseError(typedTextError(field, e.target.value, p.error));
          else {
            setParseError(null);
            onChange(p.value);
          }
        }}
        aria-invalid={!!parseError}
        aria-errormessage={parseError ? `${id}-typed` : undefined}
      />
      {parseError && (
        <div className="field-error" id={`${id}-typed`} role="alert" data-testid="typed-error">
          {parseError}
        </div>
      )}
    </>
  );
}

function ParamField({ field, value, engineErrors, onChange, onCommitEnd, nodeId }: FieldProps) {
  const id = `f-${nodeId}-${field.key}`;
  const shown = value === undefined ? field.default : value;
  const local = checkField(field, value);
  // The local check words range/type errors best; the engine's errors cover the rest (cross-field rules).
  const errors = local ? [local] : [...new Set(engineErrors)];
  const range = rangeText(field);
  const isDefault = value === undefined || JSON.stringify(value) === JSON.stringify(field.default);
  let control;
  switch (field.kind) {
    case 'enum':
      control = (
        <select
          id={id}
          value={shown === undefined ? '' : String(shown)}
          onChange={(e) => {
            const opt = field.options?.find((o) => String(o) === e.target.value);
            onChange(opt === undefined ? undefined : opt);
            onCommitEnd();
          }}
        >
          {shown === undefined && <option value="">(auto)</option>}
          {field.options?.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
      break;
    case 'boolean':
      control = (
        <label className="switch">
          <input
            id={id}
            type="checkbox"
            checked={!!shown}
            onChange={(e) => {
              onChange(e.target.checked);
              onCommitEnd();
            }}
          />
          <span>{shown ? 'on' : 'off'}</span>
        </label>
      );
      break;
    case 'enum-list': {
      const cur = Array.isArray(shown) ? (shown as (string | number)[]) : [];
      control = (
        <div className="chips-select" id={id}>
          {field.options?.map((o) => {
            const on = cur.includes(o);
            return (
              <button
                type="button"
                key={String(o)}
                className={`chip-toggle${on ? ' on' : ''}`}
                onClick={() => {
                  const next = on ? cur.filter((x) => x !== o) : field.options!.filter((x) => cur.includes(x) || x === o);
                  onChange(next);
                  onCommitEnd();
                }}
              >
                {String(o)}
              </button>
            );
          })}
        </div>
      );
      break;
    }
    default:
      control = (
        <>
          <TextField field={field} value={shown} onChange={onChange} onCommitEnd={onCommitEnd} id={id} list={field.examples?.length ? `${id}-examples` : undefined} />
          {field.examples && field.examples.length > 0 && (
            <datalist id={`${id}-examples`}>
              {field.examples.map((x) => (
                <option key={x} value={x} />
              ))}
            </datalist>
          )}
        </>
      );
  }
  return (
    <div className={`field${errors.length ? ' invalid' : ''}`} data-field={field.key}>
      <div className="field-head">
        <label htmlFor={id}>{field.title}</label>
        {range && <span className="field-range">{range}</span>}
        {!isDefault && field.default !== undefined && (
          <button
            type="button"
            className="link reset"
            title={`Reset to the default (${JSON.stringify(field.default)})`}
            onClick={() => {
              onChange(field.default);
              onCommitEnd();
            }}
          >
            reset
          </button>
        )}
      </div>
      {control}
      {errors.map((e) => (
        <div className="field-error" key={e}>
          {e}
        </div>
      ))}
      {field.description && <div className="field-help">{field.description}</div>}
    </div>
  );
}

function NodeErrors({ errors }: { errors: ValidationError[] }) {
  if (!errors.length) return null;
  return (
    <div className="inspector-errors" role="alert">
      {errors.map((e, i) => (
        <div key={i} className="inspector-error">
          <Icon name="warn" size={14} />
          <span>
            {e.field && <code>{e.field}</code>} {e.message}
          </span>
        </div>
      ))}
    </div>
  );
}

function NodeInspector({ controller, snap, node, spec }: { controller: EditorController; snap: EditorSnapshot; node: RecipeNode; spec: NodeSpec | undefined }) {
  const fields = useMemo(() => (spec ? fieldsFromSchema(spec.params) : []), [spec]);
  const byField = useMemo(() => errorsByField(snap.errors, node.id), [snap.errors, node.id]);
  const fieldKeys = new Set(fields.map((f) => f.key));
  const otherErrors = snap.errors.filter((e) => e.node === node.id && !(e.field?.startsWith('params.') && fieldKeys.has(e.field.slice(7).split(/[.[]/)[0]!)));
  const run = snap.historical ? undefined : snap.cardRun.nodes[node.id];
  const status = snap.statuses[node.id] ?? 'idle';
  const [label, setLabel] = useState(node.label ?? '');
  useEffect(() => setLabel(node.label ?? ''), [node.id, node.label]);
  return (
    <div className="inspector-body" data-testid="inspector">
      <div className="inspector-head" style={{ ['--cat' as string]: categoryColor(spec?.category ?? '') }}>
        <div className="inspector-kind">
          {spec ? CATEGORY_LABELS[spec.category] : 'Unknown'} · {node.type} v{node.version}
        </div>
        <h2>{spec?.title ?? node.type}</h2>
        {spec && <p className="muted">{spec.doc}</p>}
      </div>
      <div className="field">
        <div className="field-head">
          <label htmlFor="node-label">Label</label>
          <span className="field-range">id: {node.id}</span>
        </div>
        <input
          id="node-label"
          value={label}
          placeholder={node.id}
          onChange={(e) => {
            setLabel(e.target.value);
            controller.setLabel(node.id, e.target.value);
          }}
          onBlur={() => controller.seal()}
        />
        <div className="field-help">Shown on the card and as the branch name in comparisons.</div>
      </div>
      <NodeErrors errors={otherErrors} />
      {spec && (
        <div className="ports-summary">
          {spec.inputs.map((p) => (
            <span key={`i${p.name}`} className="port-pill" style={{ ['--port' as string]: portColor(p.type) }} title={p.doc ?? ''}>
              ← {p.title}
              {p.optional ? ' (optional)' : ''}
            </span>
          ))}
          {spec.outputs.map((p) => (
            <span key={`o${p.name}`} className="port-pill out" style={{ ['--port' as string]: portColor(p.type) }} title={p.doc ?? ''}>
              {p.title} →
            </span>
          ))}
        </div>
      )}
      <div className="section-title">Parameters</div>
      {fields.length === 0 && <p className="muted">This node has no parameters.</p>}
      {fields.map((f) => (
        <ParamField
          key={`${node.id}:${f.key}`}
          nodeId={node.id}
          field={f}
          value={node.params[f.key]}
          engineErrors={byField.get(f.key) ?? []}
          onChange={(v) => controller.setParam(node.id, f.key, v)}
          onCommitEnd={() => controller.seal()}
        />
      ))}
      {fields.length > 0 && <SweepSection controller={controller} node={node} fields={fields} />}
      {(run || status !== 'idle') && (
        <>
          <div className="section-title">Last run</div>
          <div className="run-facts">
            <span className={`node-status status-${status}`}>
              <span className="dot" />
              {status}
            </span>
            {run?.durationMs !== undefined && <span>{formatDuration(run.durationMs)}</span>}
            {run?.step !== undefined && run.total !== undefined && status === 'running' && (
              <span>
                step {run.step}/{run.total}
              </span>
            )}
          </div>
          {run?.error && run.error.code !== 'cancelled' && <pre className="error-box">{run.error.message}</pre>}
          {run?.metrics && Object.keys(run.metrics).length > 0 && (
            <table className="kv">
              <tbody>
                {Object.entries(run.metrics).map(([k, v]) => (
                  <tr key={k}>
                    <th>{k}</th>
                    <td>{formatMetric(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}

function RecipeInspector({ controller, snap }: { controller: EditorController; snap: EditorSnapshot }) {
  const [name, setName] = useState(snap.doc.name);
  const [desc, setDesc] = useState(snap.doc.description ?? '');
  useEffect(() => setName(snap.doc.name), [snap.doc.name]);
  useEffect(() => setDesc(snap.doc.description ?? ''), [snap.doc.description]);
  const recipeErrors = [...snap.fileErrors.filter((e) => !e.node), ...snap.errors.filter((e) => !e.node)];
  return (
    <div className="inspector-body">
      <div className="inspector-head">
        <div className="inspector-kind">Recipe</div>
        <h2>{snap.doc.name || 'untitled'}</h2>
        <p className="muted">
          {snap.doc.nodes.length} node{snap.doc.nodes.length === 1 ? '' : 's'}, {snap.doc.edges.length} connection{snap.doc.edges.length === 1 ? '' : 's'}
          {snap.filePath ? ` · ${snap.filePath}` : ' · not saved yet'}
        </p>
      </div>
      <div className="field">
        <div className="field-head">
          <label htmlFor="recipe-name">Name</label>
        </div>
        <input
          id="recipe-name"
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            controller.setRecipeName(e.target.value);
          }}
          onBlur={() => controller.seal()}
        />
      </div>
      <div className="field">
        <div className="field-head">
          <label htmlFor="recipe-desc">Description</label>
        </div>
        <textarea
          id="recipe-desc"
          rows={3}
          value={desc}
          onChange={(e) => {
            setDesc(e.target.value);
            controller.setRecipeDescription(e.target.value);
          }}
          onBlur={() => controller.seal()}
        />
      </div>
      <NodeErrors errors={recipeErrors} />
      <div className="section-title">Validation</div>
      {snap.errors.length === 0 ? (
        <p className="ok-line">
          <Icon name="check" size={14} /> {snap.validating ? 'Checking…' : snap.doc.nodes.length ? 'Ready to run' : 'Add nodes to build a recipe'}
        </p>
      ) : (
        <p className="warn-line">
          <Icon name="warn" size={14} /> {snap.errors.length} problem{snap.errors.length > 1 ? 's' : ''}: select a red node, or see Problems below.
        </p>
      )}
      <div className="section-title">Tips</div>
      <ul className="tips">
        <li>Drag from an output (right) to an input (left). Ports of different types do not connect.</li>
        <li>
          <kbd>/</kbd> or double-click: quick add · <kbd>Ctrl</kbd>+<kbd>Enter</kbd>: run · <kbd>?</kbd>: all shortcuts
        </li>
      </ul>
    </div>
  );
}

export function Inspector({ controller, snap, selected }: { controller: EditorController; snap: EditorSnapshot; selected: string[] }) {
  const nodes = snap.doc.nodes.filter((n) => selected.includes(n.id));
  return (
    <aside className="inspector panel" aria-label="Inspector">
      <div className="panel-title">Inspector</div>
      {nodes.length === 1 ? (
        <NodeInspector key={nodes[0]!.id} controller={controller} snap={snap} node={nodes[0]!} spec={snap.specs_.get(nodes[0]!.type)} />
      ) : nodes.length > 1 ? (
        <div className="inspector-body">
          <div className="inspector-head">
            <div className="inspector-kind">Selection</div>
            <h2>{nodes.length} nodes</h2>
            <p className="muted">{nodes.map((n) => n.label || n.id).join(', ')}</p>
          </div>
          <p className="muted">Copy (Ctrl+C), duplicate (Ctrl+D) or delete (Del) them together; drag to move them as one.</p>
        </div>
      ) : (
        <RecipeInspector controller={controller} snap={snap} />
      )}
    </aside>
  );
}
