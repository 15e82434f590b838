// The newsletter-settings app: a single-page app that uses Tally the way a bundled site does,
// importing the npm package (`tally-sdk`). demo/build.mjs bundles it with esbuild.
import { init, track, getInstance } from 'tally-sdk';

const topics = ['new-arrivals', 'brewing-guides', 'offers'];

const tallyReady = init({
  writeKey: window.TALLY_DEMO.writeKey,
  endpoint: window.TALLY_DEMO.endpoint,
  wasmUrl: '/sdk/tally-core.wasm',
  context: { app: 'newsletter-settings' },
  // The settings form is tracked explicitly below (with the chosen topics as a list), so the
  // SDK's own form tracking is switched off; page views, clicks and impressions stay on.
  autoTrack: { forms: false },
});

// Two views switched with history.pushState: the SDK records each as a page view.
function render() {
  const app = document.getElementById('app');
  const view = new URLSearchParams(location.search).get('view') || 'topics';
  if (view === 'topics') {
    app.innerHTML = `<h1>Newsletter topics</h1>
      <form id="topics">${topics
        .map((t) => `<label><input type="checkbox" name="topic" value="${t}"> ${t.replace('-', ' ')}</label>`)
        .join('')}
        <button type="submit">Save</button></form>
      <p><a href="?view=frequency" id="to-frequency">How often?</a></p>
      <p id="saved" class="ok" hidden>Saved.</p>`;
    app.querySelector('#topics').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const chosen = [...ev.target.querySelectorAll('input:checked')].map((i) => i.value);
      track('preferences.saved', { topics: chosen, count: chosen.length });
      app.querySelector('#saved').hidden = false;
    });
    app.querySelector('#to-frequency').addEventListener('click', (ev) => {
      ev.preventDefault();
      history.pushState(null, '', '?view=frequency');
      render();
    });
  } else {
    app.innerHTML = `<h1>How often?</h1>
      <p><button data-tally-event="frequency.chosen" data-tally-prop-frequency="monthly">Monthly</button>
         <button data-tally-event="frequency.chosen" data-tally-prop-frequency="weekly">Weekly</button></p>
      <p><a href="?view=topics" id="to-topics">Back to topics</a></p>`;
    app.querySelector('#to-topics').addEventListener('click', (ev) => {
      ev.preventDefault();
      history.pushState(null, '', '?view=topics');
      render();
    });
  }
}

addEventListener('popstate', render);
render();
tallyReady.then(() => {
  document.body.setAttribute('data-tally-ready', 'true');
  document.body.setAttribute('data-core', getInstance().coreKind);
});
