/** What an empty recipe shows, so a first-time user knows how to begin. */
export function EmptyCanvas() {
  return (
    <div className="canvas-empty">
      <h2>An empty recipe</h2>
      <p>
        Drag a node from the palette, or double-click the canvas (or press <kbd>/</kbd>) to search for one.
      </p>
      <p className="muted">A LoRAM recipe: Load model → Prune → LoRA train → Recover → Evaluate.</p>
    </div>
  );
}
