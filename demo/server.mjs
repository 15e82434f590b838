// The demo site's web server (127.0.0.1 only): the static pages in demo/site, the SDK's files
// under /sdk/ (js/dist), the bundled app under /app/app.js, /config.js (where the collector is),
// and one API route, /api/poll-answered, which asks the collector's timeline API whether a
// visitor has answered a poll. It holds the secret read key; the pages never see it.
//
//   node demo/server.mjs --port 8088 --collector http://127.0.0.1:8080 --read-key rk_demo
//                        [--dist js/dist] [--app-dir DIR_WITH_app.js]
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const kTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

function send(res, status, type, body, extra = {}) {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(body);
}

// A file under `base`, or null when the path escapes it or names nothing.
async function fileUnder(base, rel) {
  const path = normalize(join(base, rel));
  if (!path.startsWith(base + '/') && path !== base) return null;
  try {
    const st = await stat(path);
    if (st.isDirectory()) return fileUnder(base, join(rel, 'index.html'));
    return path;
  } catch {
    return null;
  }
}

/**
 * Starts the server; resolves with {server, url, close()}.
 * options: port (0 = any), collector (base URL), readKey, writeKey, dist, appDir.
 */
export async function startDemoServer(options) {
  const site = join(here, 'site');
  const dist = resolve(options.dist ?? join(here, '../js/dist'));
  const appDir = options.appDir ? resolve(options.appDir) : null;
  const collector = new URL(options.collector);
  const writeKey = options.writeKey ?? 'wk_demo';

  async function pollAnswered(url) {
    const question = url.searchParams.get('question') || '';
    // The visitor's events carry the user id after login and the anonymous id always: the
    // poll counts as answered when either timeline holds a poll_response to this question.
    const ids = [url.searchParams.get('user_id'), url.searchParams.get('anonymous_id')].filter(Boolean);
    if (!question || !ids.length) return [400, { error: 'question and anonymous_id or user_id are required' }];
    for (const id of ids) {
      const q = new URLSearchParams({
        name: 'poll_response',
        'prop.question': question,
        from: '0',
      });
      const r = await fetch(new URL(`/v1/users/${encodeURIComponent(id)}/summary?${q}`, collector), {
        headers: { authorization: `Bearer ${options.readKey}` },
      });
      if (!r.ok) return [502, { error: `collector answered ${r.status}` }];
      const summary = await r.json();
      if (summary.total > 0) return [200, { answered: true }];
    }
    return [200, { answered: false }];
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://demo');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only');
      if (url.pathname === '/config.js') {
        // The collector on the host name the visitor used (localhost or 127.0.0.1), so the
        // page's origin is one the demo write key allows.
        const host = (req.headers.host || '127.0.0.1').replace(/:\d+$/, '');
        const endpoint = `${collector.protocol}//${host}:${collector.port}`;
        return send(res, 200, kTypes['.js'], `window.TALLY_DEMO=${JSON.stringify({ endpoint, writeKey })};\n`);
      }
      if (url.pathname === '/api/poll-answered') {
        const [status, body] = await pollAnswered(url).catch((e) => [502, { error: `collector: ${e.message}` }]);
        return send(res, status, 'application/json', JSON.stringify(body));
      }
      let file = null;
      if (url.pathname.startsWith('/sdk/')) file = await fileUnder(dist, url.pathname.slice(5));
      else if (appDir && /^\/app\/app\.js(\.map)?$/.test(url.pathname))
        file = await fileUnder(appDir, url.pathname.slice(5));
      else file = await fileUnder(site, decodeURIComponent(url.pathname).slice(1) || 'index.html');
      if (!file) return send(res, 404, 'text/plain', 'not found');
      const body = await readFile(file);
      return send(res, 200, kTypes[extname(file)] || 'application/octet-stream', req.method === 'HEAD' ? '' : body);
    } catch (e) {
      send(res, 500, 'text/plain', `demo server: ${e.message}`);
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', ok);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  return {
    server,
    url,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      console.error(`demo server: bad argument ${argv[i]} (see the header of demo/server.mjs)`);
      process.exit(2);
    }
    args[argv[i].slice(2)] = argv[i + 1];
  }
  if (!args.collector || !args['read-key']) {
    console.error('demo server: --collector URL and --read-key KEY are required');
    process.exit(2);
  }
  let demo;
  try {
    demo = await startDemoServer({
      port: Number(args.port ?? 8088),
      collector: args.collector,
      readKey: args['read-key'],
      writeKey: args['write-key'],
      dist: args.dist,
      appDir: args['app-dir'],
    });
  } catch (e) {
    console.error(`demo server: cannot listen on 127.0.0.1:${args.port ?? 8088}: ${e.code || e.message}`);
    process.exit(1);
  }
  const stop = () => demo.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
