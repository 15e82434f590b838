// A scripted visitor walks the demo site in Chromium against the real collector; then the event
// API, the timeline, the statistics and the dashboard must show exactly the events the walk made:
// names, properties, users and sessions, each event once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemoStack, newVisitor, idsOf, allEvents, api, waitFor, countByName } from './support.mjs';

let stack, collector, site, browser;

before(async () => {
  stack = await startDemoStack('tally-e2e-walk-');
  ({ collector, site, browser } = stack);
});
after(async () => {
  await stack?.stop();
});

test('a visitor walks the shop; the API and the dashboard show exactly the events made', async () => {
  const { context, page, errors } = await newVisitor(browser);
  const sent = new Set(); // every event id the browser put on the wire (fetch or beacon)
  context.on('request', (r) => {
    if (!r.url().endsWith('/v1/batch')) return;
    try {
      for (const e of JSON.parse(r.postData() || '{}').events || []) sent.add(e.event_id);
    } catch {
      /* not a batch */
    }
  });
  let anon;
  let expected = 0;
  // After each step: the collector holds exactly the events made so far (delivered by the SDK on
  // its own: batch age, pagehide beacons, the next page's restored queue).
  const stored = async (n, what) => {
    expected = n;
    const events = await waitFor(async () => {
      const ev = await allEvents(collector.base, { anonymous_id: anon });
      return ev.length >= n && ev;
    }, `${n} events after ${what}`);
    assert.equal(events.length, n, `${what}: ${JSON.stringify(countByName(events))}`);
    return events;
  };

  // 1. Home: page view, two featured impressions; the poll is asked (never answered).
  await page.goto(site.url);
  anon = (await idsOf(page)).anonymousId;
  await page.waitForSelector('body[data-poll="asked"]');
  await stored(3, 'home');
  // 2. Add the mug (CTA click), answer the poll, subscribe to the newsletter (lead form).
  await page.click('[data-add-to-cart="mug"]');
  await page.click('#poll [data-answer="next-day"]');
  await page.fill('#newsletter input[name=email]', 'visitor@example.com');
  await page.click('#newsletter button[type=submit]');
  await page.waitForSelector('#newsletter-thanks:not([hidden])');
  await stored(6, 'cart, poll, newsletter');
  // 3. The hero CTA navigates at once (its event goes out with the page's unload); the shop shows
  //    three products.
  await page.click('[data-tally-prop-cta="hero_shop"]');
  await page.waitForURL('**/shop.html');
  await stored(11, 'the shop');
  // 4. Add the kettle, go to checkout (a CTA link), place the order.
  await page.click('[data-add-to-cart="kettle"]');
  await page.click('[data-tally-prop-cta="go_to_checkout"]');
  await page.waitForURL('**/checkout.html');
  await page.waitForSelector('body[data-tally-ready="true"]');
  await page.click('#place-order');
  await page.waitForSelector('#order-done:not([hidden])');
  await stored(15, 'the purchase');
  // 5. Log in (identify) and land on the home page again: the poll is not asked a second time.
  await page.goto(site.url + 'login.html');
  await page.fill('#login input[name=user]', 'C-E2E-1');
  await page.click('#login button[type=submit]');
  await page.waitForURL(site.url);
  await page.waitForSelector('body[data-poll="answered"]');
  await stored(20, 'login');
  // 6. The npm-package app: page view, save two topics, switch view (pushState), choose weekly.
  await page.goto(site.url + 'app/');
  await page.waitForSelector('body[data-tally-ready="true"]');
  assert.equal(await page.getAttribute('body', 'data-core'), 'wasm');
  await page.check('input[value="new-arrivals"]');
  await page.check('input[value="offers"]');
  await page.click('#topics button[type=submit]');
  await page.click('#to-frequency');
  await page.click('button[data-tally-prop-frequency="weekly"]');
  const events = await stored(24, 'the app');
  assert.deepEqual(errors, []);

  // Exactly these names, in this order (created_at order; ties broken by event id, which are
  // time-ordered UUIDv7s made in call order).
  const pageOf = (e) => e.properties?.path;
  const seen = events.map((e) => `${e.type}:${e.name}${e.type === 'page' ? ':' + pageOf(e) : ''}`);
  const imp = 'track:Impression';
  const cta = 'track:Clicked CTA';
  const want = [
    'page:Page Viewed:/',
    imp,
    imp,
    cta,
    'track:poll_response',
    'track:newsletter.submitted',
    cta,
    'page:Page Viewed:/shop.html',
    imp,
    imp,
    imp,
    cta,
    cta,
    'page:Page Viewed:/checkout.html',
    'track:conversion',
    'page:Page Viewed:/login.html',
    'identify:Identify',
    'page:Page Viewed:/',
    imp,
    imp,
    'page:Page Viewed:/app/',
    'track:preferences.saved',
    'page:Page Viewed:/app/',
    'track:frequency.chosen',
  ];
  const byTime = [...events].sort((a, b) => a.created_at - b.created_at || (a.event_id < b.event_id ? -1 : 1));
  // Within one page, ids are made in call order, so equal created_at still sorts by call. Two
  // pages can make events in the same ms (an unload and the next page's first event) whose ids
  // come from two generators: such a run of equal created_at has no defined order (the CI of
  // 2026-11-25 saw one swap), so runs of equal created_at are compared as sets.
  const runsAsSets = (labels) => {
    const out = labels.slice();
    for (let i = 0, j; i < byTime.length; i = j) {
      for (j = i + 1; j < byTime.length && byTime[j].created_at === byTime[i].created_at; j++);
      out.splice(i, j - i, ...out.slice(i, j).sort());
    }
    return out;
  };
  assert.deepEqual(
    runsAsSets(byTime.map((e) => `${e.type}:${e.name}${e.type === 'page' ? ':' + pageOf(e) : ''}`)),
    runsAsSets(want),
  );
  assert.equal(new Set(seen).size <= seen.length, true);

  // Each event once, and every id the browser sent is stored.
  const ids = new Set(events.map((e) => e.event_id));
  assert.equal(ids.size, 24, 'no event stored twice');
  for (const id of sent) assert.ok(ids.has(id), `sent ${id} not stored`);
  for (const e of events)
    assert.match(e.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  // One visitor, one session; the user id from the identify on.
  assert.deepEqual([...new Set(events.map((e) => e.anonymous_id))], [anon]);
  assert.equal(new Set(events.map((e) => e.session_id)).size, 1);
  const idx = byTime.findIndex((e) => e.type === 'identify');
  byTime.forEach((e, i) => assert.equal(e.user_id ?? null, i >= idx ? 'C-E2E-1' : null, `${i} ${e.name}`));

  // Properties, as the markup and the page scripts set them.
  const find = (name, pred = () => true) => byTime.filter((e) => e.name === name && pred(e));
  assert.deepEqual(
    find('Impression').map((e) => e.properties.content_id),
    [
      'CNT-featured-kettle',
      'CNT-featured-mug',
      'CNT-shop-kettle',
      'CNT-shop-mug',
      'CNT-shop-tea',
      'CNT-featured-kettle',
      'CNT-featured-mug',
    ],
  );
  assert.deepEqual(find('Impression')[2].properties, {
    content_id: 'CNT-shop-kettle',
    list: 'shop',
    product: 'kettle',
  });
  assert.deepEqual(
    find('Clicked CTA').map((e) => e.properties),
    [
      { cta: 'add_to_cart', product: 'mug', list: 'featured' },
      { cta: 'hero_shop', placement: 'hero' },
      { cta: 'add_to_cart', product: 'kettle', list: 'shop' },
      { cta: 'go_to_checkout', placement: 'shop' },
    ],
  );
  assert.deepEqual(find('poll_response')[0].properties, {
    question: 'Q-2024-11-delivery',
    question_text: 'How fast do you want your order delivered?',
    answer: 'next-day',
  });
  assert.deepEqual(find('newsletter.submitted')[0].properties, {
    source: 'home',
    form_id: 'newsletter',
  });
  const order = find('conversion')[0].properties;
  assert.match(order.order_id, /^ORD-/);
  assert.deepEqual(
    { ...order, order_id: 'x' },
    { kind: 'purchase', order_id: 'x', revenue: 61, currency: 'EUR', items: 2 },
  );
  assert.deepEqual(find('Identify')[0].properties, { plan: 'pro' });
  assert.deepEqual(find('preferences.saved')[0].properties, {
    topics: ['new-arrivals', 'offers'],
    count: 2,
  });
  assert.equal(find('preferences.saved')[0].context.app, 'newsletter-settings');
  assert.deepEqual(find('frequency.chosen')[0].properties, {
    frequency: 'weekly',
  });
  assert.equal(
    find('Page Viewed', (e) => e.properties.path === '/checkout.html')[0].context.page.path,
    '/checkout.html',
  );

  // The timeline of the identified customer: the events from the identify on.
  const summary = await api(collector.base, '/v1/users/C-E2E-1/summary', {
    from: '0',
  });
  assert.equal(summary.total, 24 - idx);
  const perName = countByName(byTime.slice(idx));
  assert.deepEqual(Object.fromEntries(summary.events.map((e) => [e.name, e.count])), perName);
  const timeline = await api(collector.base, '/v1/users/C-E2E-1/events', {
    from: '0',
    limit: '1000',
  });
  assert.deepEqual(
    timeline.events.map((e) => e.event_id).sort(),
    byTime
      .slice(idx)
      .map((e) => e.event_id)
      .sort(),
  );
  // The poll question the demo asks the timeline about.
  const answered = await api(collector.base, `/v1/users/${anon}/summary`, {
    from: '0',
    name: 'poll_response',
    'prop.question': 'Q-2024-11-delivery',
  });
  assert.equal(answered.total, 1);

  // Statistics over the whole store (this visitor is its only one).
  const range = { from: '0', to: String(Date.now() + 60000) };
  const overview = await api(collector.base, '/v1/stats/overview', range);
  assert.equal(overview.events, 24);
  assert.equal(overview.sessions, 1);
  const breakdown = await api(collector.base, '/v1/stats/breakdown', {
    ...range,
    by: 'name',
    limit: '50',
  });
  assert.deepEqual(Object.fromEntries(breakdown.rows.map((r) => [r.value, r.count])), countByName(events));
  const funnel = await api(collector.base, '/v1/stats/funnel', {
    ...range,
    steps: 'Impression,Clicked CTA,conversion',
  });
  // Funnel users are user_id, else anonymous_id: the visitor before login (anonymous) saw,
  // clicked and bought; after login (C-E2E-1) it saw the featured blocks again.
  assert.deepEqual(
    funnel.steps.map((s) => s.users),
    [2, 1, 1],
  );
  const revenue = await api(collector.base, '/v1/stats/breakdown', {
    ...range,
    by: 'prop.currency',
    name: 'conversion',
  });
  assert.deepEqual(
    revenue.rows.map((r) => [r.value, r.count]),
    [['EUR', 1]],
  );

  // The dashboard, opened with the read key, shows the same figures and top events.
  const dash = await context.newPage();
  await dash.goto(collector.base + '/');
  await dash.fill('#key-input', 'rk_demo');
  await dash.click('#key-form button[type=submit]');
  await dash.waitForSelector('body[data-ready="true"]');
  const fig = async (id) => Number((await dash.textContent(id)).replace(/[^0-9]/g, ''));
  assert.equal(await fig('#fig-events'), 24);
  assert.equal(await fig('#fig-users'), overview.users);
  assert.equal(await fig('#fig-sessions'), 1);
  const top = await dash.$$eval('#top-events tbody tr', (rows) =>
    rows.map((r) => [r.cells[0].textContent, Number(r.cells[1].textContent)]),
  );
  assert.deepEqual(Object.fromEntries(top), countByName(events));
  await context.close();
});
