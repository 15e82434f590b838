// Auto-tracking in the browser, each behaviour switchable (TallyOptions.autoTrack). Everything is
// delegated from document-level listeners, so pages need no per-element wiring.

import type { AutoTrackOptions, Tally } from './tally';

/** How long an outbound link click may hold navigation while its event goes out. */
export const kLinkHoldMs = 300;

/** The switches and their defaults (also the names data-auto-track lists). */
export const kAutoTrackDefaults: AutoTrackOptions = {
  pageViews: true,
  clicks: true,
  outboundLinks: true,
  forms: true,
  errors: false,
  impressions: true,
};

/** Reads `data-tally-prop-*` attributes into properties (`data-tally-prop-plan` → `plan`,
 *  `data-tally-prop-content-id` → `contentId`); a name must start with a letter. */
export function propsOf(el: Element): Record<string, string> {
  const props: Record<string, string> = {};
  // dataset has already turned `data-tally-prop-content-id` into `tallyPropContentId`.
  for (const [k, v] of Object.entries((el as HTMLElement).dataset))
    if (/^tallyProp[A-Z]/.test(k)) props[k[9]!.toLowerCase() + k.slice(10)] = v!;
  return props;
}

/** Switches on the configured behaviours for `t` (init() never calls this with autoTrack: false). */
export function startAutoTrack(t: Tally, setting: Partial<AutoTrackOptions> | true | undefined): void {
  // Spreading `true` or undefined adds nothing: the defaults.
  const on: AutoTrackOptions = { ...kAutoTrackDefaults, ...(setting as Partial<AutoTrackOptions>) };

  let seen = new WeakSet<Element>();
  let io: IntersectionObserver | undefined;
  // Marked elements in `root` (itself included) are observed; observing one twice does nothing.
  const observeIn = (root: ParentNode) => {
    if (root instanceof Element && root.matches('[data-tally-impression]')) io?.observe(root);
    root.querySelectorAll('[data-tally-impression]').forEach((el) => io?.observe(el));
  };
  const observeAll = () => observeIn(document);

  // (A browser without IntersectionObserver simply reports no impressions.)
  if (on.impressions && self.IntersectionObserver) {
    io = new IntersectionObserver(
      (entries) => {
        for (const { isIntersecting, target } of entries) {
          if (!isIntersecting || seen.has(target)) continue;
          seen.add(target);
          t.track('Impression', { content_id: target.getAttribute('data-tally-impression'), ...propsOf(target) });
        }
      },
      { threshold: 0.5 },
    );
    // Only the added subtrees are scanned: a page that changes its DOM often (infinite scroll,
    // live updates) must not pay a whole-document query per change.
    new MutationObserver((records) => {
      for (const r of records) r.addedNodes.forEach((n) => n instanceof Element && observeIn(n));
    }).observe(document.documentElement, { childList: true, subtree: true });
    observeAll();
  }

  let lastUrl = location.href;
  const onHistory = () => {
    if (location.href === lastUrl) return;
    lastUrl = location.href;
    // A new page view resets "once per element per page view": re-observe so visible elements count again.
    seen = new WeakSet();
    io?.disconnect();
    observeAll();
    if (on.pageViews) t.page();
    else t.refreshContext();
  };
  for (const m of ['pushState', 'replaceState'] as const) {
    const orig = history[m];
    history[m] = function (this: History, ...args: Parameters<History['pushState']>) {
      const r = orig.apply(this, args);
      onHistory();
      return r;
    };
  }
  addEventListener('popstate', onHistory);
  addEventListener('hashchange', onHistory);
  if (on.pageViews) t.page();

  document.addEventListener(
    'click',
    (ev) => {
      const target = ev.target;
      if (!(target instanceof Element)) return;
      // A marked form is tracked by its submit; a click inside it is not the form's event.
      const marked = on.clicks && target.closest('[data-tally-event]:not(form)');
      if (marked) t.track(marked.getAttribute('data-tally-event') || 'Click', propsOf(marked));
      const a = on.outboundLinks && (target.closest('a[href]') as HTMLAnchorElement | null);
      if (!a || a.origin === location.origin || !/^https?:/.test(a.protocol)) return;
      if (!marked) t.track('Outbound Link Clicked', { href: a.href, text: (a.textContent || '').trim().slice(0, 100) });
      // A plain click that navigates this tab: hold it until the event is handed to the
      // transport, at most kLinkHoldMs.
      if (ev.button || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey || ev.defaultPrevented) return;
      if (a.target && a.target !== '_self') return;
      ev.preventDefault();
      let gone = 0;
      const go = () => {
        if (!gone++) location.href = a.href;
      };
      setTimeout(go, kLinkHoldMs);
      void t.flush().then(go, go);
    },
    true,
  );

  if (on.forms) {
    document.addEventListener(
      'submit',
      (ev) => {
        const f = ev.target as HTMLFormElement;
        t.track(f.getAttribute('data-tally-event') || 'Form Submitted', {
          form_id: f.id || f.getAttribute('name') || '',
          action: f.getAttribute('action') || '',
          ...propsOf(f),
        });
      },
      true,
    );
  }

  if (on.errors) {
    addEventListener('error', (e) => {
      t.track('Error', {
        message: String(e.message).slice(0, 255),
        source: String(e.filename || '').slice(0, 255),
        line: e.lineno || 0,
      });
    });
    addEventListener('unhandledrejection', (e) => {
      t.track('Error', {
        message: String((e.reason as Error)?.message ?? e.reason).slice(0, 255),
        source: 'unhandledrejection',
      });
    });
  }
}
