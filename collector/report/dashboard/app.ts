// The Tally dashboard: one page over the report API (docs/API.md) with a read key kept in
// localStorage. Bundled with uPlot by esbuild at build time and served by the collector.
import uPlot from 'uplot';

interface TopEvent {
  name: string;
  count: number;
}
interface Overview {
  events: number;
  users: number;
  sessions: number;
  top_events: TopEvent[];
}
interface Point {
  t: number;
  time: string;
  value: number;
}
interface Timeseries {
  interval: string;
  points: Point[];
}
interface BreakdownRow {
  value: string | null;
  count: number;
}
interface Breakdown {
  total: number;
  rows: BreakdownRow[];
  other: number;
}
interface FunnelStep {
  name: string;
  users: number;
  conversion_from_previous: number;
  conversion_from_start: number;
}
interface TallyEvent {
  event_id: string;
  type: string;
  name: string;
  user_id: string | null;
  anonymous_id: string | null;
  derived_at: number;
  properties: Record<string, unknown>;
}
interface EventsPage {
  events: TallyEvent[];
  next_cursor: string | null;
}
interface Summary {
  total: number;
  events: {
    name: string;
    count: number;
    first_seen: number;
    last_seen: number;
  }[];
}

const KEY_STORAGE = 'tally.readKey';
const TAIL_POLL_MS = 2000;
const TAIL_MAX = 50;

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}
function input(id: string): HTMLInputElement {
  return $(id) as HTMLInputElement;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(path: string, params: Record<string, string>): Promise<T> {
  const key = localStorage.getItem(KEY_STORAGE) ?? '';
  const url = `${path}?${new URLSearchParams(params).toString()}`;
  const res = await fetch(url, { headers: { Authorization: `Bearer ${key}` } });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  return body;
}

const numberFormat = new Intl.NumberFormat();
const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function range(): { from: string; to: string } {
  const days = Number((document.getElementById('range') as HTMLSelectElement).value);
  const to = Date.now() + 1;
  return { from: String(to - days * 86400000), to: String(to) };
}

function cell(row: HTMLTableRowElement, text: string, numeric = false): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (numeric) td.className = 'num';
  return td;
}
function tbody(tableId: string): HTMLTableSectionElement {
  const body = ($(tableId) as HTMLTableElement).tBodies[0];
  body.replaceChildren();
  return body;
}
function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
function when(ms: number): string {
  return new Date(ms).toLocaleString();
}

function showError(err: unknown): void {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    localStorage.removeItem(KEY_STORAGE);
    showKeyForm(err.message);
    return;
  }
  $('error').textContent = err instanceof Error ? err.message : String(err);
}

async function loadOverview(): Promise<void> {
  const o = await api<Overview>('/v1/stats/overview', range());
  $('fig-events').textContent = numberFormat.format(o.events);
  $('fig-users').textContent = numberFormat.format(o.users);
  $('fig-sessions').textContent = numberFormat.format(o.sessions);
  const body = tbody('top-events');
  for (const e of o.top_events) {
    const row = body.insertRow();
    cell(row, e.name);
    cell(row, numberFormat.format(e.count), true);
  }
}

let chart: uPlot | null = null;

async function loadTimeseries(): Promise<void> {
  const r = range();
  const days = (Number(r.to) - Number(r.from)) / 86400000;
  const metric = (document.getElementById('ts-metric') as HTMLSelectElement).value;
  const ts = await api<Timeseries>('/v1/stats/timeseries', {
    ...r,
    tz,
    metric,
    interval: days <= 2 ? 'hour' : 'day',
  });
  const xs = ts.points.map((p) => p.t / 1000);
  const ys = ts.points.map((p) => p.value);
  const body = tbody('ts-table');
  for (const p of ts.points) {
    const row = body.insertRow();
    cell(row, p.time);
    cell(row, String(p.value), true);
  }
  const host = $('ts-chart');
  host.dataset.total = String(ys.reduce((a, b) => a + b, 0));
  const data: uPlot.AlignedData = [xs, ys];
  if (chart) {
    chart.setData(data);
    return;
  }
  chart = new uPlot(
    {
      width: Math.max(320, host.clientWidth || 900),
      height: 240,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), tz),
      series: [
        {},
        {
          label: metric,
          stroke: '#4c7bd9',
          fill: 'rgba(76,123,217,0.15)',
          width: 2,
        },
      ],
      axes: [{}, { size: 60 }],
      scales: { x: { time: true } },
    },
    data,
    host,
  );
}

async function loadBreakdown(): Promise<void> {
  const by = input('bd-by').value.trim() || 'name';
  const b = await api<Breakdown>('/v1/stats/breakdown', {
    ...range(),
    by,
    limit: '10',
  });
  const body = tbody('breakdown');
  for (const r of b.rows) {
    const row = body.insertRow();
    cell(row, r.value === null ? '(none)' : r.value);
    cell(row, numberFormat.format(r.count), true);
  }
  if (b.other > 0) {
    const row = body.insertRow();
    cell(row, 'other');
    cell(row, numberFormat.format(b.other), true);
  }
}

async function loadFunnel(): Promise<void> {
  const steps = input('funnel-steps').value.trim();
  if (!steps) return;
  const f = await api<{ steps: FunnelStep[] }>('/v1/stats/funnel', {
    ...range(),
    steps,
    window: input('funnel-window').value.trim() || '7d',
  });
  const body = tbody('funnel');
  for (const s of f.steps) {
    const row = body.insertRow();
    cell(row, s.name);
    const users = cell(row, numberFormat.format(s.users), true);
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${Math.round(s.conversion_from_start * 120)}px`;
    users.prepend(bar, ' ');
    cell(row, percent(s.conversion_from_previous), true);
    cell(row, percent(s.conversion_from_start), true);
  }
}

function eventLine(e: TallyEvent): HTMLLIElement {
  const li = document.createElement('li');
  const who = e.user_id ?? e.anonymous_id ?? '-';
  li.textContent = `${new Date(e.derived_at).toISOString()}  ${e.name}  ${who}  ${JSON.stringify(e.properties)}`;
  return li;
}

async function loadUser(): Promise<void> {
  const id = input('user-id').value.trim();
  if (!id) return;
  const path = `/v1/users/${encodeURIComponent(id)}`;
  const [summary, page] = await Promise.all([
    api<Summary>(`${path}/summary`, {}),
    api<EventsPage>(`${path}/events`, { order: 'desc', limit: '100' }),
  ]);
  const body = tbody('user-summary');
  for (const s of summary.events) {
    const row = body.insertRow();
    cell(row, s.name);
    cell(row, String(s.count), true);
    cell(row, when(s.first_seen));
    cell(row, when(s.last_seen));
  }
  $('user-events').replaceChildren(...page.events.map(eventLine));
}

// Live tail: the newest events first, then new ones by cursor (ascending pages after the newest
// seen), so a burst of arrivals is paged through rather than skipped.
let tailCursor: string | null = null;
let tailTimer: number | undefined;

async function pollTail(): Promise<void> {
  const list = $('tail');
  if (tailCursor === null) {
    const latest = await api<EventsPage>('/v1/events', {
      ...range(),
      order: 'desc',
      limit: '20',
    });
    list.replaceChildren(...latest.events.map(eventLine));
    const newest = latest.events[0];
    tailCursor = newest ? `${newest.derived_at}.${newest.event_id}` : `${Date.now() - 1}.0`;
  } else {
    for (let pages = 0; pages < 5; pages++) {
      const page: EventsPage = await api<EventsPage>('/v1/events', {
        from: String(Date.now() - 86400000),
        to: String(Date.now() + 1),
        cursor: tailCursor,
        limit: '100',
      });
      for (const e of page.events) list.prepend(eventLine(e));
      const last: TallyEvent | undefined = page.events[page.events.length - 1];
      if (last) tailCursor = `${last.derived_at}.${last.event_id}`;
      if (!page.next_cursor) break;
    }
    while (list.children.length > TAIL_MAX) list.lastElementChild?.remove();
  }
}

function scheduleTail(): void {
  window.clearTimeout(tailTimer);
  if (!input('tail-on').checked || localStorage.getItem(KEY_STORAGE) === null) return;
  tailTimer = window.setTimeout(() => {
    pollTail().then(scheduleTail, (err: unknown) => {
      showError(err);
      scheduleTail();
    });
  }, TAIL_POLL_MS);
}

async function refresh(): Promise<void> {
  $('error').textContent = '';
  tailCursor = null;
  try {
    await Promise.all([loadOverview(), loadTimeseries(), loadBreakdown(), pollTail()]);
    $('workspace-status').textContent = `updated ${new Date().toLocaleTimeString()} (${tz})`;
    document.body.dataset.ready = 'true';
  } catch (err) {
    showError(err);
  }
  scheduleTail();
}

function showKeyForm(message = ''): void {
  $('main').hidden = true;
  $('forget-key').hidden = true;
  $('key-form').hidden = false;
  $('key-error').textContent = message;
  document.body.dataset.ready = '';
}

function showMain(): void {
  $('key-form').hidden = true;
  $('main').hidden = false;
  $('forget-key').hidden = false;
  void refresh();
}

function on(id: string, event: string, handler: () => Promise<void> | void): void {
  $(id).addEventListener(event, (e) => {
    if (event === 'submit') e.preventDefault();
    Promise.resolve(handler()).catch(showError);
  });
}

function main(): void {
  on('key-form', 'submit', () => {
    localStorage.setItem(KEY_STORAGE, input('key-input').value.trim());
    showMain();
  });
  on('forget-key', 'click', () => {
    localStorage.removeItem(KEY_STORAGE);
    showKeyForm();
  });
  on('range', 'change', refresh);
  on('ts-metric', 'change', loadTimeseries);
  on('bd-form', 'submit', loadBreakdown);
  on('funnel-form', 'submit', loadFunnel);
  on('user-form', 'submit', loadUser);
  on('tail-on', 'change', scheduleTail);
  if (localStorage.getItem(KEY_STORAGE)) {
    showMain();
  } else {
    showKeyForm();
  }
}

main();
