import { useEffect, useRef } from 'react';
import type { BottomTab } from '../components/BottomPanel';
import type { EditorSnapshot } from '../editor/controller';

/** The bottom panel follows the run: the log while it goes on, the results when it ends, the problems when refused. */
export function useTabFollowsRun(snap: EditorSnapshot, setTab: (t: BottomTab) => void): void {
  const prevStatus = useRef(snap.run.status);
  useEffect(() => {
    const prev = prevStatus.current;
    prevStatus.current = snap.run.status;
    if (snap.historical) return;
    if (snap.run.status === 'running' && prev !== 'running') setTab('log');
    if (prev === 'running' && snap.run.status === 'finished') setTab('results');
  }, [snap.run.status, snap.historical, setTab]);

  useEffect(() => {
    if (snap.notice?.about === 'run-refused') setTab('problems');
  }, [snap.notice, setTab]);
}
