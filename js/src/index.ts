// The package entry (ESM and CJS builds): createTally() for any number of trackers, and init()
// plus module-level functions for the usual one tracker per page or process.

import loadGlue from 'tally-core-glue';
import { startAutoTrack } from './autotrack';
import { loadCoreModule, TallyError, type LoadOptions } from './core';
import { Tally, type TallyOptions } from './tally';

export { Tally, TallyError };
export type { TallyErrorCode, LoadOptions, CoreKind } from './core';
export type { TallyOptions, TallyEvent, TallyEvents, TrackOptions, FlushResult, AutoTrackOptions } from './tally';
export type { StorageKind } from './storage';

declare const __TALLY_FORMAT__: 'esm' | 'cjs' | 'iife';
declare const __TALLY_NODE__: boolean; // false in the browser builds: the Node paths are removed

/** Options of init() and createTally(): the tracker's, plus where the core's files are. */
export type InitOptions = TallyOptions & LoadOptions;

// Where tally-core.wasm and tally-core.asm.js sit by default: next to this file.
function assetBase(): string {
  try {
    if (__TALLY_FORMAT__ === 'esm' && import.meta.url) return new URL('.', import.meta.url).href;
    if (__TALLY_FORMAT__ === 'cjs' && typeof __dirname === 'string') return 'file://' + __dirname + '/';
  } catch {
    /* bundled into a format without import.meta */
  }
  const s = typeof document === 'object' ? (document.currentScript as HTMLScriptElement | null) : null;
  if (s?.src) return new URL('.', s.src).href;
  return typeof location === 'object' || !__TALLY_NODE__ ? location.href : 'file://' + process.cwd() + '/';
}
const kBase = assetBase();

// Loads the core for `t`, starts it, and switches on auto-tracking in a browser.
async function start(t: Tally, options: InitOptions): Promise<Tally> {
  const { module, kind } = await loadCoreModule(loadGlue, kBase, options);
  await t.start(module, kind);
  if (typeof document === 'object' && options.autoTrack !== false) startAutoTrack(t, options.autoTrack);
  return t;
}

/** Creates and starts a tracker; resolves once the core is loaded and the queue restored. */
export async function createTally(options: InitOptions): Promise<Tally> {
  return start(new Tally(options), options);
}

let instance: Tally | undefined;
let ready: Promise<Tally> | undefined;

/** Starts the page's (or process's) tracker; calls made before it resolves are kept in order.
 *  Later calls return the same promise (their options are ignored). */
export function init(options: InitOptions): Promise<Tally> {
  return ready || (ready = start((instance = new Tally(options)), options));
}

function need(): Tally {
  if (!instance) throw new TallyError('invalid_argument', 'init: call init({writeKey, endpoint}) first');
  return instance;
}

// A module-level function: the same method of the init() tracker.
function call<K extends 'track' | 'page' | 'identify' | 'reset' | 'flush' | 'optOut' | 'optIn' | 'on'>(m: K): Tally[K] {
  return ((...a: unknown[]) => (need()[m] as (...a: unknown[]) => unknown)(...a)) as Tally[K];
}

/** Tracks an action on the init() tracker; returns the event id (undefined until loaded or when dropped). */
export const track = call('track');
/** Records a page view on the init() tracker. */
export const page = call('page');
/** Ties later events of the init() tracker to a user. */
export const identify = call('identify');
/** Forgets the user of the init() tracker. */
export const reset = call('reset');
/** Sends the init() tracker's queue now. */
export const flush = call('flush');
/** Opts this browser out (persisted). */
export const optOut = call('optOut');
/** Grants consent / undoes optOut() (persisted). */
export const optIn = call('optIn');
/** Subscribes to 'delivered', 'dropped' or 'error' on the init() tracker. */
export const on = call('on');
/** The init() tracker (undefined before init()); for on(), queued() and ids(). */
export function getInstance(): Tally | undefined {
  return instance;
}
