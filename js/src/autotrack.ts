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

/** Reads `data-tally-prop-*` attributes into properties (`data-tally-prop-plan` → `plan`). */
export function propsOf(el: Element): Record<string, string> {
  const props: Record<string, string> = {};
  for (const a of Array.from(el.attributes)) {
    if (a.name.startsWith('data-tally-prop-'))
      props[a.name.slice(16).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = a.value;
  }
  return props;
}

/** Switches on the configured behaviours for `t`; returns the resolved switches. */
export function startAutoTrack(t: Tally, setting: Partial<AutoTrackOptions> | true | undefined): AutoTrackOptions {
  // (init() never calls this with autoTrack: false.)
  const on: AutoTrackOptions = { ...kAutoTrackDefaults, ...(typeof setting === 'object' ? setting : {}) };

  let seen = new WeakSet<Element>();
  let io: IntersectionObserver | undefined;
  const observeAll = () => {
    if (!io) return;
    document.querySelectorAll('[data-tally-impression]').forEach((el) => io!.observe(el));
  };

  if (on.impressions && typeof IntersectionObserver === 'function') {
    io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          if (!e.isIntersecting || seen.has(e.target)) continue;
          seen.add(e.target);
          t.track('Impression', {
            content_id: e.target.getAttribute('data-tally-impression') || '',
            ...propsOf(e.target),
          });
        }
      },
      { threshold: 0.5 },
    );
    new MutationObserver((records) => {
      for (const r of records)
        r.addedNodes.forEach((n) => {
          if (n instanceof Element) {
            if (n.hasAttribute('data-tally-impression')) io!.observe(n);
            n.querySelectorAll('[data-tally-impression]').forEach((el) => io!.observe(el));
          }
        });
    }).observe(document.documentElement, { childList: true, subtree: true });
    observeAll();
  }

  // A new page view resets "once per element per page view": re-observe so visible elements count again.
  const pageView = () => {
    seen = new WeakSet();
    if (io) {
      io.disconnect();
      observeAll();
    }
    if (on.pageViews) t.page();
    else t.refreshContext();
  };

  let lastUrl = location.href;
  const onHistory = () => {
    if (location.href === lastUrl) return;
    lastUrl = location.href;
    pageView();
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

  if (on.clicks || on.outboundLinks) {
    document.addEventListener(
      'click',
      (ev) => {
        const target = ev.target instanceof Element ? ev.target : null;
        if (!target) return;
        // A marked form is tracked by its submit; a click inside it is not the form's event.
        let marked = on.clicks ? target.closest('[data-tally-event]') : null;
        if (marked && marked.tagName === 'FORM') marked = null;
        if (marked) t.track(marked.getAttribute('data-tally-event') || 'Click', propsOf(marked));
        if (!on.outboundLinks) return;
        const a = target.closest('a[href]') as HTMLAnchorElement | null;
        if (!a || a.origin === location.origin || !/^https?:/.test(a.protocol)) return;
        const plain = ev.button === 0 && !ev.metaKey && !ev.ctrlKey && !ev.shiftKey && !ev.altKey;
        const sameTab = !a.target || a.target === '_self';
        if (!marked)
          t.track('Outbound Link Clicked', { href: a.href, text: (a.textContent || '').trim().slice(0, 100) });
        if (!plain || !sameTab || ev.defaultPrevented) return;
        // Hold navigation until the event is handed to the transport, at most kLinkHoldMs.
        ev.preventDefault();
        let gone = false;
        const go = () => {
          if (gone) return;
          gone = true;
          location.href = a.href;
        };
        setTimeout(go, kLinkHoldMs);
        void t.flush().then(go, go);
      },
      true,
    );
  }

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
  return on;
}
