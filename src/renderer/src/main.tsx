import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles/app.css';
import { App } from './App';
import { chartTextBoxes } from './components/charts/layout-probe';
import { connectBridge } from './client';
import { EditorController } from './editor/controller';

const bridge = connectBridge((connected) => {
  document.documentElement.toggleAttribute('data-offline', !connected);
  controller.setServerConnected(connected);
});
const controller = new EditorController(bridge.engine, bridge.host);
void controller.init();
// For debugging from the devtools console (and the e2e tests' assertions on the document).
(window as unknown as { __loram?: EditorController }).__loram = controller;
// Where charts drew their labels (canvas text has no DOM boxes): for the console and the e2e layout checks.
(window as unknown as { __loramChartText?: typeof chartTextBoxes }).__loramChartText = chartTextBoxes;

createRoot(document.getElementById('root')!).render(<App controller={controller} />);
