// The script-tag build (IIFE, global `tally`). The async snippet defines `tally` as a stub whose
// methods push [method, args, Date.now()] onto `tally._q`; this file replays those calls in order,
// each track/page/identify with its original time as created_at, then replaces the stub.
// Configuration comes from data-* attributes of the script tag when present:
//   data-write-key, data-endpoint, data-storage, data-identity, data-consent ("required"),
//   data-honor-dnt, data-auto-track ("false", or a comma list: pageViews,clicks,...).

import {
  createTally,
  flush,
  getInstance,
  identify,
  init,
  on,
  optIn,
  optOut,
  page,
  reset,
  Tally,
  TallyError,
  track,
} from './index';
import { kAutoTrackDefaults } from './autotrack';

type Call = [string, unknown[], number];
interface Stub {
  _q?: Call[];
  _loaded?: boolean;
}

const g = globalThis as unknown as { tally?: Stub & Record<string, unknown> };
const stub = g.tally;
const script = (document.currentScript || document.querySelector('script[data-write-key]')) as HTMLScriptElement | null;

if (!stub?._loaded) {
  // The package's exports (named one by one: a module namespace object costs a helper).
  const api: Record<string, unknown> = {
    Tally,
    TallyError,
    createTally,
    init,
    track,
    page,
    identify,
    reset,
    flush,
    optOut,
    optIn,
    on,
    getInstance,
    _loaded: true,
  };
  g.tally = api;
  const queue: Call[] = stub?._q ?? [];

  const d = script?.dataset ?? {};
  if (d.writeKey && !queue.some((c) => c[0] === 'init')) {
    queue.unshift([
      'init',
      [
        {
          writeKey: d.writeKey,
          endpoint: d.endpoint ?? location.origin,
          storage: d.storage,
          identity: d.identity,
          consent: d.consent,
          honorDoNotTrack: d.honorDnt === 'true',
          autoTrack:
            d.autoTrack === 'false'
              ? false
              : d.autoTrack &&
                Object.fromEntries(
                  Object.keys(kAutoTrackDefaults).map((k) => [k, d.autoTrack!.split(',').includes(k)]),
                ),
        },
      ],
      0,
    ]);
  }
  for (const [method, args, at] of queue) {
    const fn = api[method];
    if (typeof fn !== 'function') continue;
    try {
      // track(name, properties, options), identify(userId, traits, options), page(properties,
      // options): the options argument gets the time the call was really made.
      const n = method === 'page' ? 1 : 2;
      if (/^(track|page|identify)$/.test(method)) {
        const o = args[n] as object;
        args.length = n;
        args[n] = { createdAt: at, ...o };
      }
      void fn(...args);
    } catch (e) {
      console.warn('tally:', e);
    }
  }
}
