import { bezierPoints, edgesHiddenByNodes, type Rect } from '../../../src/renderer/src/editor/edge-layers';

describe('edges hidden by node cards', () => {
  const card = (x: number, y: number): Rect => ({ x, y, width: 220, height: 120 });
  // The quickstart's layout: Load at 0, Prune at 300, Recover at 900 on one row; Train below.
  const nodes = new Map([
    ['load', card(0, 0)],
    ['prune', card(300, 0)],
    ['train', card(600, 150)],
    ['recover', card(900, 0)],
  ]);

  test('the bezier starts and ends on the handles and bends between them', () => {
    const pts = bezierPoints({ x: 220, y: 60 }, { x: 900, y: 200 }, 8);
    expect(pts[0]).toEqual({ x: 220, y: 60 });
    expect(pts[8]).toEqual({ x: 900, y: 200 });
    expect(pts[4]!.y).toBeCloseTo(130);
  });

  test('Load → Recover runs behind Prune: hidden; Load → Prune and Train → Recover are not', () => {
    const hidden = edgesHiddenByNodes(
      [
        { id: 'load-recover', source: 'load', target: 'recover', from: { x: 220, y: 60 }, to: { x: 900, y: 60 } },
        { id: 'load-prune', source: 'load', target: 'prune', from: { x: 220, y: 60 }, to: { x: 300, y: 60 } },
        { id: 'train-recover', source: 'train', target: 'recover', from: { x: 820, y: 210 }, to: { x: 900, y: 90 } },
      ],
      nodes,
    );
    expect([...hidden]).toEqual(['load-recover']);
  });
});
