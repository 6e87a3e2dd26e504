import { useEffect, useState } from 'react';
import type { EditorController, EditorSnapshot } from '../editor/controller';
import { Icon } from './Icon';
import { NodeErrors } from './inspector/NodeErrors';
import { NodeInspector } from './inspector/NodeInspector';

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
