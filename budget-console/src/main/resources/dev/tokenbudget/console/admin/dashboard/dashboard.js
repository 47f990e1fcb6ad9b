// tokenbudget dashboard: reads the admin API with the bearer token kept in this tab's
// sessionStorage and draws the budget tree, one burn-down chart per window of the selected
// budget (hand-drawn SVG, no library, no network beyond this origin) and the latest events.
'use strict';

(function () {
  const REFRESH_MS = 15000;
  const TOKEN_KEY = 'tokenbudget.adminToken';
  const SVG = 'http://www.w3.org/2000/svg';
  const COLORS = { actual: '#2f6fde', forecast: '#7a5cd6', limit: '#d23c3c', threshold: '#d99a1e', now: '#9aa5b5' };

  let selected = null;
  let budgets = [];

  const $ = (id) => document.getElementById(id);

  // ---- token handling: #token=... once, then sessionStorage; never in a query string ----
  function readFragment() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ''));
    const t = params.get('token');
    if (t) {
      sessionStorage.setItem(TOKEN_KEY, t);
    }
    const b = params.get('budget');
    if (b) {
      selected = b;
    }
    if (location.hash) {
      // drop the token from the address bar and from history
      history.replaceState(null, '', location.pathname);
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function showLogin(message) {
    $('main').hidden = true;
    $('login').hidden = false;
    const err = $('login-error');
    err.hidden = !message;
    err.textContent = message || '';
    $('status').textContent = 'signed out';
  }

  class Unauthorized extends Error {}

  async function api(path) {
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + token() }, cache: 'no-store' });
    if (res.status === 401) {
      throw new Unauthorized('the token was refused');
    }
    const body = await res.json();
    if (!res.ok) {
      throw new Error(body.error ? body.error.message : 'HTTP ' + res.status);
    }
    return body;
  }

  // ---- formatting ----
  function tokens(n) {
    if (n === null || n === undefined) return '—';
    const a = Math.abs(n);
    if (a >= 1e9) return trim(n / 1e9) + 'B';
    if (a >= 1e6) return trim(n / 1e6) + 'M';
    if (a >= 1e3) return trim(n / 1e3) + 'k';
    return String(Math.round(n));
  }

  function trim(x) {
    const t = Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
    return t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t;
  }

  function policy(p) {
    return { alert_only: 'alert', degrade_route: 'degrade', hard_stop: 'hard stop' }[p] || p;
  }

  function duration(seconds) {
    const d = seconds / 86400, h = seconds / 3600;
    return Number.isInteger(d) ? d + (d === 1 ? ' day' : ' days') : Number.isInteger(h) ? h + ' h' : seconds + ' s';
  }

  function every(seconds) {
    if (!seconds) return 'on demand';
    return 'every ' + (seconds % 60 === 0 ? seconds / 60 + ' min' : seconds + ' s');
  }

  function pct(u) {
    return u === null || u === undefined ? '—' : Math.round(u * 100) + '%';
  }

  function time(iso) {
    const d = new Date(iso);
    return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // the window that binds: highest utilisation
  function bindingWindow(b) {
    return b.windows.reduce((m, w) => (m === null || w.utilisation > m.utilisation ? w : m), null);
  }

  function worstProjection(b) {
    let worst = null;
    for (const w of b.windows) {
      const f = w.forecast;
      if (!f || f.expected_utilisation === null) continue;
      if (!worst) {
        worst = w;
        continue;
      }
      const wf = worst.forecast;
      const first = f.exhaustion && (!wf.exhaustion || Date.parse(f.exhaustion) < Date.parse(wf.exhaustion));
      if (first || (!f.exhaustion && !wf.exhaustion && f.expected_utilisation > wf.expected_utilisation)) worst = w;
    }
    return worst;
  }

  // ---- the tree ----
  function renderTree() {
    const body = $('tree');
    body.replaceChildren();
    for (const b of budgets) {
      const w = bindingWindow(b);
      const tr = el('tr', { 'data-budget': b.id });
      if (b.id === selected) tr.className = 'selected';
      const name = el('td', { class: 'name' });
      name.style.paddingLeft = (6 + 18 * (b.depth || 0)) + 'px';
      name.appendChild(el('span', b.kind === 'key' ? { class: 'key' } : {}, (b.depth ? '└ ' : '') + b.id));
      tr.appendChild(name);
      const st = el('td');
      st.appendChild(el('span', { class: 'pill ' + b.state }, b.state));
      tr.appendChild(st);
      const ut = el('td', { class: 'util' });
      const bar = el('span', { class: 'bar' });
      const fill = el('span', { class: b.state });
      fill.style.width = Math.min(100, Math.round(b.utilisation * 100)) + '%';
      bar.appendChild(fill);
      ut.appendChild(bar);
      ut.appendChild(el('span', { class: 'pct' }, pct(b.utilisation)));
      tr.appendChild(ut);
      const dim = w && w.binding_dimension;
      const used = el('td', { class: 'num' }, w && dim ? tokens(w.used[dim] + w.reserved[dim]) + ' / ' + tokens(w.limits[dim]) : '—');
      if (w) used.setAttribute('title', w.key + (dim && dim !== 'total' ? ', ' + dim + ' tokens' : ''));
      tr.appendChild(used);
      // the projection that matters most: a window projected to run out first, else the highest
      const fw = worstProjection(b);
      const f = fw && fw.forecast;
      const proj = el('td', { class: 'num' + (f && f.exhaustion ? ' over' : '') }, f ? pct(f.expected_utilisation) : '—');
      if (f) proj.setAttribute('title', fw.key + (f.exhaustion ? ': projected to run out ' + time(f.exhaustion) : ''));
      tr.appendChild(proj);
      tr.addEventListener('click', () => { selected = b.id; renderTree(); refreshCharts(); });
      body.appendChild(tr);
    }
  }

  // ---- the burn-down charts ----
  async function refreshCharts() {
    const b = budgets.find((x) => x.id === selected);
    const box = $('charts');
    if (!b) {
      box.replaceChildren(el('p', { class: 'empty' }, 'No budget selected.'));
      return;
    }
    $('chart-title').textContent = 'Burn-down · ' + b.id;
    const hist = await api('/v1/budgets/' + encodeURIComponent(b.id) + '/history');
    $('chart-note').textContent = 'usage sampled ' + every(hist.sample_interval_seconds) + ' since the admin server started';
    box.replaceChildren();
    let rendered = 0;
    for (const w of b.windows) {
      const h = hist.windows.find((x) => x.key === w.key);
      const card = chart(b, w, h ? h.points : [], Date.parse(hist.at));
      rendered += Number(card.getAttribute('data-points'));
      box.appendChild(card);
    }
    box.setAttribute('data-rendered', rendered + ' points');
  }

  // now is the server's (engine clock), so the chart agrees with the counters it shows
  function chart(b, w, points, now) {
    const dim = w.binding_dimension || 'total';
    const limit = w.limits[dim];
    const f = w.forecast;
    const card = el('div', { class: 'chart', 'data-window': w.key });
    card.appendChild(el('h3', {}, w.key + ' · ' + dim + ' tokens'));
    const used = w.used[dim];
    const sub = [tokens(used) + ' used', tokens(w.reserved[dim]) + ' reserved'];
    if (limit !== null) sub.push('limit ' + tokens(limit), pct(w.utilisation) + ' used');
    if (f) sub.push('projected ' + tokens(f.expected) + ' (80%: ' + tokens(f.band80.lower) + '–' + tokens(f.band80.upper) + ')');
    else sub.push('no forecast on this host yet');
    sub.push(w.period === 'rolling' && w.length_seconds ? 'any ' + duration(w.length_seconds) : 'resets ' + time(w.end));
    card.appendChild(el('div', { class: 'sub' }, sub.join(' · ')));

    // R: room for the longest threshold label, "100% hard stop"
    const W = 660, H = 220, L = 48, R = 104, T = 14, B = 26;
    const pw = W - L - R, ph = H - T - B;
    const pts = points.map((p) => [Date.parse(p.at), p[dim]]);
    const t0 = Date.parse(w.start);
    let t1 = Date.parse(w.end);
    if (f) t1 = Math.max(t1, Date.parse(f.horizon_end));
    const x0 = Math.min(t0, pts.length ? pts[0][0] : t0);
    let ymax = Math.max(1, used, ...pts.map((p) => p[1]));
    if (limit !== null) ymax = Math.max(ymax, limit * 1.08);
    if (f) ymax = Math.max(ymax, f.band80.upper * 1.03);
    ymax = niceMax(ymax);
    const X = (t) => L + (t - x0) / Math.max(1, t1 - x0) * pw;
    const Y = (v) => T + ph - v / ymax * ph;

    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'burn-down of ' + b.id + ' ' + w.key });
    // grid and axes
    for (const v of ticks(ymax)) {
      s.appendChild(svg('line', { x1: L, x2: L + pw, y1: Y(v), y2: Y(v), stroke: '#edf0f5' }));
      s.appendChild(svg('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end' }, tokens(v)));
    }
    for (const t of timeTicks(x0, t1)) {
      s.appendChild(svg('line', { x1: X(t.at), x2: X(t.at), y1: T + ph, y2: T + ph + 4, stroke: '#9aa5b5' }));
      s.appendChild(svg('text', { x: X(t.at), y: T + ph + 17, 'text-anchor': 'middle' }, t.label));
    }
    s.appendChild(svg('line', { x1: L, x2: L + pw, y1: T + ph, y2: T + ph, stroke: '#9aa5b5' }));

    // forecast band and line, from now to the horizon
    if (f) {
      const fx = X(Math.min(now, t1)), ex = X(Date.parse(f.horizon_end));
      s.appendChild(svg('polygon', {
        points: [fx + ',' + Y(used), ex + ',' + Y(f.band80.upper), ex + ',' + Y(f.band80.lower)].join(' '),
        fill: 'rgba(122, 92, 214, 0.18)', stroke: 'none', 'data-series': 'band80'
      }));
      s.appendChild(svg('line', {
        x1: fx, y1: Y(used), x2: ex, y2: Y(f.expected), stroke: COLORS.forecast, 'stroke-width': 2,
        'stroke-dasharray': '6 4', 'data-series': 'forecast'
      }));
      s.appendChild(svg('text', { x: ex - 4, y: Y(f.band80.upper) - 6, 'text-anchor': 'end', fill: COLORS.forecast, class: 'label' },
        'projected ' + tokens(f.expected)));
    }

    // thresholds and the limit, labelled in the right margin
    const labels = [];
    if (limit !== null) {
      for (const th of b.thresholds) {
        if (th.percent === 100) continue;
        const v = limit * th.percent / 100;
        s.appendChild(svg('line', { x1: L, x2: L + pw, y1: Y(v), y2: Y(v), stroke: COLORS.threshold, 'stroke-dasharray': '4 3', 'data-series': 'threshold' }));
        labels.push({ y: Y(v) + 4, text: th.percent + '% ' + policy(th.policy), fill: COLORS.threshold });
      }
      s.appendChild(svg('line', { x1: L, x2: L + pw, y1: Y(limit), y2: Y(limit), stroke: COLORS.limit, 'stroke-width': 1.5, 'data-series': 'limit' }));
      const hundred = b.thresholds.find((t) => t.percent === 100);
      labels.push({ y: Y(limit) + 4, text: hundred ? '100% ' + policy(hundred.policy) : 'limit', fill: COLORS.limit });
      labels.sort((a, c) => a.y - c.y);
      for (let i = 1; i < labels.length; i++) {
        labels[i].y = Math.max(labels[i].y, labels[i - 1].y + 12);
      }
      for (const lb of labels) {
        s.appendChild(svg('text', { x: L + pw + 4, y: lb.y, fill: lb.fill, class: 'label' }, lb.text));
      }
    }

    // actual cumulative usage: area and line
    if (pts.length) {
      const line = pts.map((p) => X(p[0]).toFixed(1) + ',' + Y(p[1]).toFixed(1));
      const area = [X(pts[0][0]).toFixed(1) + ',' + Y(0)].concat(line, [X(pts[pts.length - 1][0]).toFixed(1) + ',' + Y(0)]);
      s.appendChild(svg('polygon', { points: area.join(' '), fill: 'rgba(47, 111, 222, 0.12)', stroke: 'none' }));
      s.appendChild(svg('polyline', { points: line.join(' '), fill: 'none', stroke: COLORS.actual, 'stroke-width': 2.2, 'data-series': 'actual' }));
      const last = pts[pts.length - 1];
      s.appendChild(svg('circle', { cx: X(last[0]), cy: Y(last[1]), r: 3.5, fill: COLORS.actual }));
    }

    // now, and the projected exhaustion
    if (now >= x0 && now <= t1) {
      s.appendChild(svg('line', { x1: X(now), x2: X(now), y1: T, y2: T + ph, stroke: COLORS.now, 'stroke-dasharray': '2 3' }));
      s.appendChild(svg('text', { x: X(now), y: T + 9, 'text-anchor': 'middle' }, 'now'));
    }
    if (f && f.exhaustion && limit !== null) {
      const ex = Date.parse(f.exhaustion);
      if (ex >= x0 && ex <= t1) {
        s.appendChild(svg('circle', { cx: X(ex), cy: Y(limit), r: 4.5, fill: '#fff', stroke: COLORS.limit, 'stroke-width': 2, 'data-series': 'exhaustion' }));
        s.appendChild(svg('text', { x: X(ex) - 8, y: Y(limit) - 7, 'text-anchor': 'end', fill: COLORS.limit, class: 'label' }, 'runs out ' + time(f.exhaustion)));
      }
    }
    card.appendChild(s);

    const legend = el('div', { class: 'legend' });
    const item = (cls, text) => { const sp = el('span'); sp.appendChild(el('i', { class: cls })); sp.appendChild(document.createTextNode(text)); legend.appendChild(sp); };
    item('actual', 'used (cumulative)');
    if (f) { item('forecast', 'forecast'); item('band', '80% band'); }
    if (limit !== null) { item('threshold', 'thresholds'); item('limit', 'limit'); }
    card.appendChild(legend);
    card.setAttribute('data-points', String(pts.length));
    card.setAttribute('data-rendered', pts.length + ' points');
    // what the line ends at, for tests and scrapers: the sampled usage the chart shows last
    if (pts.length) card.setAttribute('data-last-point', String(pts[pts.length - 1][1]));
    return card;
  }

  function niceMax(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
      if (m * p >= v) return m * p;
    }
    return 10 * p;
  }

  function ticks(max) {
    const out = [];
    const step = niceMax(max / 5);
    for (let v = 0; v <= max + 1e-9; v += step) out.push(v);
    return out;
  }

  function timeTicks(a, b) {
    const span = b - a;
    const day = 86400000, hour = 3600000;
    const step = span > 20 * day ? 5 * day : span > 6 * day ? 2 * day : span > 2 * day ? day : span > 12 * hour ? 3 * hour : hour;
    const out = [];
    const first = new Date(a);
    if (step >= day) first.setHours(0, 0, 0, 0); else first.setMinutes(0, 0, 0);
    for (let t = first.getTime(); t <= b && out.length < 40; t += step) {
      if (t < a) continue;
      const d = new Date(t);
      out.push({ at: t, label: step >= day ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
        : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) });
    }
    return out;
  }

  // ---- events ----
  function describe(e) {
    switch (e.type) {
      case 'threshold_crossed': return e.percent + '% of ' + e.window_key + ' reached (' + tokens(e.used.total) + ' used)';
      case 'request_degraded': return (e.key_name || '') + ': ' + (e.from_model || '?') + ' → ' + (e.to_model || e.from_model || '?') + ' on route ' + (e.route || '—');
      case 'request_rejected': return (e.key_name || '') + ': ' + e.reason + ', retry after ' + e.retry_after_seconds + ' s';
      case 'lease_expired': return 'lease ' + e.lease_id + ' charged ' + tokens(e.charged.total);
      case 'store_failure': return e.operation + ' failed (' + e.applied + '): ' + e.message;
      case 'usage_unknown': return (e.key_name || '') + ': settled at the estimate ' + tokens(e.estimated_input + e.estimated_output);
      case 'limits_changed': return e.window + ': ' + limitsText(e.before) + ' → ' + limitsText(e.after);
      default: return '';
    }
  }

  function limitsText(l) {
    return ['input', 'output', 'total'].filter((d) => l[d] !== null).map((d) => d + ' ' + tokens(l[d])).join(', ');
  }

  function renderEvents(page) {
    const body = $('events');
    body.replaceChildren();
    const events = page.events.slice().reverse();
    if (!events.length) {
      const tr = el('tr');
      tr.appendChild(el('td', { colspan: '3', class: 'empty' }, 'No events yet.'));
      body.appendChild(tr);
    }
    for (const e of events) {
      const tr = el('tr', { 'data-type': e.type });
      tr.appendChild(el('td', { class: 'num muted' }, String(e.seq)));
      tr.appendChild(el('td', { class: 'num' }, time(e.at)));
      const what = el('td');
      const head = el('div');
      head.appendChild(el('span', { class: 'type ' + e.type }, e.type.replace(/_/g, ' ')));
      head.appendChild(el('span', { class: 'budget' }, e.budget_id));
      what.appendChild(head);
      what.appendChild(el('div', { class: 'details' }, describe(e)));
      tr.appendChild(what);
      body.appendChild(tr);
    }
  }

  // ---- refresh loop ----
  async function refresh() {
    if (!token()) {
      showLogin();
      return;
    }
    try {
      const list = await api('/v1/budgets');
      budgets = list.budgets;
      if (!budgets.some((b) => b.id === selected)) {
        selected = budgets.length ? budgets[0].id : null;
      }
      $('login').hidden = true;
      $('main').hidden = false;
      renderTree();
      await refreshCharts();
      renderEvents(await api('/v1/events?limit=15'));
      $('status').textContent = 'updated ' + new Date().toLocaleTimeString() + ' · every ' + REFRESH_MS / 1000 + ' s';
      document.body.setAttribute('data-state', 'ready');
    } catch (e) {
      if (e instanceof Unauthorized) {
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin('The token was refused; enter it again.');
      } else {
        $('status').textContent = 'refresh failed: ' + e.message;
        document.body.setAttribute('data-state', 'error');
      }
    }
  }

  function start() {
    readFragment();
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
      $('token').value = '';
      refresh();
    });
    $('refresh').addEventListener('click', refresh);
    $('forget').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); showLogin(); });
    refresh();
    setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  }

  document.addEventListener('DOMContentLoaded', start);
}());
