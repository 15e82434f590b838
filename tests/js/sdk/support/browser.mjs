// One headless Chromium per test file (common.md's flags), a fresh context per test.
import { chromium } from 'playwright-core';

export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** The async snippet a site pastes: a stub queue, then the SDK with data-* configuration. */
export function snippet(src, data = {}, calls = '') {
  const attrs = Object.entries(data)
    .map(([k, v]) => `s.setAttribute(${JSON.stringify('data-' + k)},${JSON.stringify(v)});`)
    .join('');
  return `<script>
!function(w,d){var t=w.tally=w.tally||{};if(t._loaded)return;t._q=t._q||[];
"init track page identify reset flush optOut optIn on".split(" ").forEach(function(m){
t[m]=function(){t._q.push([m,[].slice.call(arguments),Date.now()])}});
var s=d.createElement("script");s.async=true;s.src=${JSON.stringify(src)};${attrs}
d.head.appendChild(s)}(window,document);
${calls}
</script>`;
}

export function html(body, head = '') {
  return `<!doctype html><html><head><meta charset="utf-8"><title>t</title>${head}</head><body>${body}</body></html>`;
}

// How many events the page's SDK holds in IndexedDB (written but not yet confirmed delivered).
export async function persistedCount(page) {
  return page.evaluate(
    () =>
      new Promise((res) => {
        const r = indexedDB.open('tally-' + window.tally.getInstance().options.writeKey);
        r.onsuccess = () => {
          const q = r.result.transaction('events').objectStore('events').count();
          q.onsuccess = () => {
            res(q.result);
            r.result.close();
          };
        };
      }),
  );
}
