// A small app that imports the package the way a site's bundle does.
import { init, track, getInstance, TallyError } from 'tally-sdk';

window.appReady = init({ writeKey: 'wk_app', endpoint: '', autoTrack: false, wasmUrl: '/sdk/tally-core.wasm' }).then(() => {
  window.appTrack = (name, props) => track(name, props);
  window.appInfo = () => ({ kind: getInstance().coreKind, isError: new TallyError('internal', 'x') instanceof Error });
});
