/** What the canvas offers the App (its view API, the selection it reports) and the palette (the drag type). */
export const DND_MIME = 'application/x-loram-node';

export interface Selection {
  nodes: string[];
  edges: string[];
}

export interface CanvasApi {
  fitView(): void;
  /** Flow coordinates of a screen point (default: the centre of the canvas). */
  flowPoint(screen?: { x: number; y: number }): { x: number; y: number };
  /** Is this screen point over the canvas? */
  contains(screen: { x: number; y: number }): boolean;
}
