// A stand-in for the Emscripten glue of the C++ core, used ONLY while the real build
// (build/wasm/wasm/tally-core.js) does not exist yet: it speaks the same C ABI
// (wasm/tally_abi.h) over a JS heap, so the SDK's marshalling, loader, persistence and transport
// are exercised end to end. The suites print which core they ran against.
var createTallyCore = (function () {
  return function (moduleArg) {
    moduleArg = moduleArg || {};
    var HEAP = new Uint8Array(8 << 20);
    var OUT = 4 << 20, IDP = OUT - 64, next = 16;
    var enc = new TextEncoder(), dec = new TextDecoder();
    var trackers = [null], lastCreateError = 0;
    var M = { HEAPU8: HEAP };
    function str(p, n) { return dec.decode(HEAP.subarray(p, p + n)); }
    function out(t, s) { var b = enc.encode(s); HEAP.set(b, OUT); t.outLen = b.length; }
    function hex(n, w) { var s = n.toString(16); while (s.length < w) s = '0' + s; return s; }
    function uuid7(now) {
      var r = new Uint8Array(10); crypto.getRandomValues(r);
      var h = hex(now, 12), x = Array.prototype.map.call(r, function (b) { return hex(b, 2); }).join('');
      return h.slice(0, 8) + '-' + h.slice(8, 12) + '-7' + x.slice(0, 3) + '-' +
        ((parseInt(x[3], 16) & 3) | 8).toString(16) + x.slice(4, 7) + '-' + x.slice(7, 19);
    }
    function encode(e) {
      var o = { event_id: e.event_id, type: e.type };
      if (e.name !== undefined) o.name = e.name;
      ['user_id', 'anonymous_id', 'session_id'].forEach(function (k) { if (e[k]) o[k] = e[k]; });
      o.created_at = e.created_at; o.properties = e.properties || {}; o.context = e.context || {};
      return JSON.stringify(o);
    }
    function validate(e) {
      if (!e || typeof e !== 'object' || Array.isArray(e)) return 'event: must be an object';
      if (['track', 'page', 'identify'].indexOf(e.type) < 0) return 'type: must be track, page or identify';
      if (e.type === 'track' && (typeof e.name !== 'string' || !e.name)) return 'name: must be a non-empty string';
      if (e.properties !== undefined && (typeof e.properties !== 'object' || Array.isArray(e.properties) || !e.properties))
        return 'properties: must be an object';
      for (var k in e.properties || {}) {
        var v = e.properties[k];
        if (typeof v === 'number' && !isFinite(v)) return 'properties.' + k + ': must be a finite number';
        if (typeof v === 'string' && v.length > 255) return 'properties.' + k + ': longer than 255 characters';
      }
      return '';
    }
    function push(t, e, line) {
      t.q.push({ id: e.event_id, line: line, at: Date.now() }); t.bytes += line.length; t.seen[e.event_id] = 1;
    }
    M._tally_alloc = function (n) { var p = next; next += (n + 15) & ~15; if (next > IDP) throw new Error('fake heap full'); return p; };
    M._tally_free = function () {};
    M._tally_tracker_new = function (p, n, seed) {
      var o; try { o = JSON.parse(str(p, n)); } catch (err) { lastCreateError = 'options: ' + err.message; return 0; }
      var b = o.batch || {}, q = o.queue || {};
      trackers.push({ key: o.write_key || '', q: [], bytes: 0, seen: {}, outLen: 0, off: null, rtt: Infinity,
        maxEvents: b.max_events || 100, maxBytes: b.max_bytes || 61440, maxAge: b.max_age_ms === undefined ? 2000 : b.max_age_ms,
        qEvents: q.max_events || 1000, qBytes: q.max_bytes || 1048576 });
      return trackers.length - 1;
    };
    M._tally_tracker_free = function (h) { trackers[h] = null; };
    M._tally_last_create_error = function () { var b = enc.encode(String(lastCreateError) + '\0'); HEAP.set(b, OUT); return OUT; };
    M._tally_track = function (h, p, n) {
      var t = trackers[h], e;
      try { e = JSON.parse(str(p, n)); } catch (err) { out(t, 'event: ' + err.message); return -2; }
      var bad = validate(e); if (bad) { out(t, bad); return -1; }
      if (!e.event_id) e.event_id = uuid7(Date.now());
      if (e.created_at === undefined) e.created_at = Date.now();
      if (t.seen[e.event_id]) { out(t, 'event_id: duplicate ' + e.event_id); return -4; }
      var line = encode(e);
      if (t.q.length >= t.qEvents || t.bytes + line.length > t.qBytes) { out(t, 'queue: full'); return -5; }
      push(t, e, line); out(t, line); HEAP.set(enc.encode(e.event_id), IDP); return 0;
    };
    M._tally_last_id_ptr = function () { return IDP; };
    M._tally_restore = function (h, p, n) {
      var t = trackers[h], r = 0, d = 0;
      str(p, n).split('\n').forEach(function (l) {
        if (!l) return; var e; try { e = JSON.parse(l); } catch (err) { d++; return; }
        if (validate(e) || !e.event_id) { d++; return; }
        if (t.seen[e.event_id]) return;
        push(t, e, encode(e)); r++;
      });
      out(t, '{"restored":' + r + ',"dropped":' + d + '}'); return r;
    };
    M._tally_snapshot = function (h) { var t = trackers[h]; out(t, t.q.map(function (x) { return x.line; }).join('\n')); return t.q.length; };
    M._tally_batch_due = function (h) {
      var t = trackers[h]; if (!t.q.length) return 0;
      return t.q.length >= t.maxEvents || t.bytes >= t.maxBytes || Date.now() - t.q[0].at >= t.maxAge ? 1 : 0;
    };
    M._tally_ms_until_due = function (h) {
      var t = trackers[h]; if (!t.q.length) return -1;
      return M._tally_batch_due(h) ? 0 : Math.max(0, t.maxAge - (Date.now() - t.q[0].at));
    };
    M._tally_next_batch = function (h, max) {
      var t = trackers[h]; max = max || t.maxBytes;
      var head = '{"write_key":' + JSON.stringify(t.key) + ',"sent_at":' + Date.now() +
        (t.off === null ? '' : ',"clock_offset_ms":' + t.off) + ',"events":[';
      var size = head.length + 2, parts = [];
      for (var i = 0; i < t.q.length && parts.length < t.maxEvents; i++) {
        var add = t.q[i].line.length + (parts.length ? 1 : 0);
        if (size + add > max) break;
        parts.push(t.q[i].line); size += add;
      }
      if (!parts.length) { t.outLen = 0; return 0; }
      out(t, head + parts.join(',') + ']}'); return parts.length;
    };
    M._tally_ack = function (h, n) { var t = trackers[h]; t.q.splice(0, n).forEach(function (x) { t.bytes -= x.line.length; }); };
    M._tally_on_server_time = function (h, s, r, st) {
      var t = trackers[h]; if (r - s < t.rtt) { t.rtt = r - s; t.off = Math.round(st - (s + r) / 2); }
    };
    M._tally_clock_offset = function (h) { var t = trackers[h]; return t.off === null ? NaN : t.off; };
    M._tally_queued_events = function (h) { return trackers[h].q.length; };
    M._tally_queued_bytes = function (h) { return trackers[h].bytes; };
    M._tally_out_ptr = function () { return OUT; };
    M._tally_out_len = function (h) { return trackers[h].outLen; };
    if (moduleArg.instantiateWasm) {
      return new Promise(function (resolve) {
        moduleArg.instantiateWasm({}, function () { resolve(M); });
      });
    }
    return Promise.resolve(M);
  };
})();
if (typeof exports === 'object' && typeof module === 'object') module.exports = createTallyCore;
