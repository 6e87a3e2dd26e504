/** Copy and paste through the controller's clipboard, mirrored to the system clipboard as text (between windows). */
import { useCallback, type RefObject } from 'react';
import type { CanvasApi, Selection } from '../components/Canvas';
import { clipboardFromText, clipboardToText, type ClipboardData } from '../editor/clipboard';
import type { EditorController } from '../editor/controller';

type Point = { x: number; y: number };

export function useClipboardActions(
  controller: EditorController,
  selection: () => Selection,
  setSelection: (s: Selection) => void,
  pointer: RefObject<Point | null>,
  canvas: RefObject<CanvasApi | null>,
): { copy: () => ClipboardData | null; paste: () => Promise<void> } {
  const copy = useCallback(() => {
    const data = controller.copy(selection().nodes);
    if (data) {
      void navigator.clipboard?.writeText(clipboardToText(data)).catch(() => undefined);
      controller.notify('info', `Copied ${data.nodes.length} node${data.nodes.length > 1 ? 's' : ''}`);
    }
    return data;
  }, [controller, selection]);

  const paste = useCallback(async () => {
    let data = controller.clipboardData;
    if (!data) {
      const text = await navigator.clipboard?.readText().catch(() => '');
      data = text ? clipboardFromText(text) : null;
    }
    if (!data) return;
    // Paste where the pointer is when it is over the canvas, else next to the originals.
    const p = pointer.current;
    const api = canvas.current;
    const at = p && api?.contains(p) ? api.flowPoint(p) : undefined;
    const r = controller.paste(data, at);
    if (r) setSelection({ nodes: r.nodeIds, edges: r.edgeIds });
  }, [controller, setSelection, pointer, canvas]);

  return { copy, paste };
}
