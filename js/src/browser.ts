// The script-tag build (IIFE, global `tally`). The async snippet defines `tally` as a stub whose
// methods push [method, args, Date.now()] onto `tally._q`; this file replays those calls in order,
// each track/page/identify with its original time as created_at, then replaces the stub.
// Configuration comes from data-* attributes of the script tag when present:
//   data-write-key, data-endpoint, data-storage, data-identity, data-consent ("required"),
//   data-honor-dnt, data-auto-track ("false", or a comma list: pageViews,clicks,...).

import * as api from './index';
import { kAutoTrackDefaults } from './autotrack';
import type { AutoTrackOptions } from './tally';

type Call = [string, unknown[], number];
interface Stub {
  _q?: Call[];
  _loaded?: boolean;
}

const g = globalThis as unknown as { tally?: Stub & Record<string, unknown> };
const stub = g.tally;
const script = (document.currentScript || document.querySelector('script[data-write-key]')) as HTMLScriptElement | null;

if (!stub?._loaded) {
  const timed = new Set(['track', 'page', 'identify']);
  const real: Record<string, unknown> = { ...api, _loaded: true };
  g.tally = real as Stub & Record<string, unknown>;
  const queue: Call[] = stub?._q ?? [];

  const d = script?.dataset ?? {};
  let initCall = queue.findIndex((c) => c[0] === 'init');
  if (initCall < 0 && d.writeKey) {
    const auto =
      d.autoTrack === 'false'
        ? false
        : d.autoTrack
          ? Object.fromEntries(Object.keys(kAutoTrackDefaults).map((k) => [k, d.autoTrack!.split(',').includes(k)]))
          : undefined;
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
          autoTrack: auto as Partial<AutoTrackOptions> | false | undefined,
        },
      ],
      Date.now(),
    ]);
    initCall = 0;
  }
  for (const [method, args, at] of queue) {
    const fn = (api as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
    if (typeof fn !== 'function') continue;
    try {
      if (timed.has(method)) {
        // Pad to the options argument and give it the time the call was really made.
        const a = args.slice(0, 2);
        while (a.length < 2) a.push(undefined);
        const o = (args[2] as Record<string, unknown> | undefined) ?? {};
        fn(...a, { createdAt: at, ...o });
      } else {
        void fn(...args);
      }
    } catch (e) {
      console.warn('tally:', e);
    }
  }
}
