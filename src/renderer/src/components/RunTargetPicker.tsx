import type { RunTarget } from '../editor/run-target';
import { runTargetChoices } from '../editor/run-target';

/** "Run on: this machine | workers (redis://…)" next to Run; absent when the engine has no queue of workers. */
export function RunTargetPicker({ workers, target, disabled, onChange }: { workers: string | null; target: RunTarget; disabled: boolean; onChange: (t: RunTarget) => void }) {
  const choices = runTargetChoices(workers);
  if (!choices.length) return null;
  return (
    <label className="run-target" title="Where Run and Run to here compute">
      <span>Run on</span>
      <select value={target} disabled={disabled} onChange={(e) => onChange(e.target.value as RunTarget)} title={choices.find((c) => c.value === target)?.label} data-testid="run-target">
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    </label>
  );
}
