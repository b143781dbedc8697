// The dashboard: one card per profile, the configuration check, and the app's commands. The
// app sends the page its state when something changes (event `state`); the page counts down
// by itself in between. No framework, no network: only the Tauri IPC, which the app grants
// this window alone. Text only ever goes in through textContent; no value of a session or
// token is ever received.
'use strict';

// The app's commands come from commands.js (generated from the Rust side's table).
const internals = window.__TAURI_INTERNALS__;
// Tauri's event API without its JS bundle: the `listen` command of the core event plugin.
const listen = (event, handler) => internals.invoke('plugin:event|listen', {
  event,
  target: { kind: 'Any' },
  handler: internals.transformCallback(handler),
});
// A button's data-action names its command as the app does (validate_now → validateNow).
const command = (action) => commands[action.replace(/_([a-z])/g, (_, c) => c.toUpperCase())];
const cards = new Map();
let state = null;

// A span of time in whole minutes; a countdown (`seconds`) shows seconds in its last two
// minutes. A text that does not change is not redrawn, and the page wakes only when a text
// can change: at each full minute, or every second while a countdown is in its last two
// minutes (see `draw` and `schedule`).
function span(ms, seconds = false) {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m >= 2 || (m && !seconds)) return `${m} min`;
  if (m) return `${m} min ${s % 60} s`;
  return seconds ? `${s} s` : 'under a minute';
}

// Sets a property only when it changes: writing the same text or flag again still costs
// WebKit a layout and a paint.
function set(node, prop, value) {
  if (node[prop] !== value) node[prop] = value;
}

const when = (iso) => new Date(iso).toLocaleString();

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// Replaces a list's children only when what it shows changed (no flicker, focus kept).
function fill(list, items, render) {
  const next = JSON.stringify(items);
  if (list.dataset.key === next) return;
  list.dataset.key = next;
  list.replaceChildren(...items.map(render));
}

function card(profile) {
  let c = cards.get(profile.profile);
  if (c) return c;
  c = document.getElementById('card').content.firstElementChild.cloneNode(true);
  c.id = `card-${profile.profile}`;
  c.dataset.profile = profile.profile;
  c.querySelectorAll('[data-action]').forEach((b) => {
    b.addEventListener('click', () => act(c, b, () => command(b.dataset.action)(profile.profile)));
  });
  c.querySelector('form').addEventListener('submit', (e) => paste(e, profile.profile));
  c.querySelector('.check-tokens').addEventListener('click', (e) => checkTokens(c, e.target, profile.profile));
  document.getElementById('cards').append(c);
  cards.set(profile.profile, c);
  return c;
}

function timeline(svg, legend, spans, now) {
  const key = JSON.stringify(spans) + Math.floor(now / 60000);
  if (svg.dataset.key === key) return;
  svg.dataset.key = key;
  const title = svg.querySelector('title');
  svg.replaceChildren(title);
  if (!spans.length) { legend.textContent = 'No session captured yet.'; return; }
  const start = Date.parse(spans[0].capturedAt);
  const width = Math.max(now - start, 1);
  const x = (t) => ((t - start) / width) * 600;
  const lives = [];
  spans.forEach((s, i) => {
    const from = Date.parse(s.capturedAt);
    const end = s.refusedAt ? Date.parse(s.refusedAt)
      : i + 1 < spans.length ? Date.parse(spans[i + 1].capturedAt) : now;
    const kind = s.refusedAt ? 'died' : i + 1 < spans.length ? 'replaced' : 'alive';
    const r = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
    r.setAttribute('x', x(from).toFixed(1));
    r.setAttribute('width', Math.max(x(end) - x(from) - 1, 2).toFixed(1));
    r.setAttribute('y', '6');
    r.setAttribute('height', '24');
    r.setAttribute('class', kind);
    const t = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    t.textContent = `${s.source} ${when(s.capturedAt)}: ${kind === 'alive' ? 'alive for' : kind === 'died' ? 'refused after' : 'replaced after'} ${span(end - from)}`;
    r.append(t);
    svg.append(r);
    if (s.refusedAt) lives.push(span(end - from));
  });
  legend.textContent = lives.length
    ? `${spans.length} session(s); seen to die after: ${lives.join(', ')}`
    : `${spans.length} session(s); none seen to die yet`;
}

// What a target's convergence state says, for people.
function targetState(t, countdown) {
  switch (t.state) {
    case 'current': return 'holds the current session';
    case 'pushing': return 'pushing…';
    case 'failing': {
      const next = t.nextAttemptAt ? countdown(Date.parse(t.nextAttemptAt)) : null;
      return `FAILING: ${t.lastError ?? 'failed'} (${t.attempts} attempt(s)${next !== null && next > 0 ? `; retrying in ${span(next, true)}` : ''})`;
    }
    default: return 'behind: it does not hold the current session yet';
  }
}

// The state was built at `state.now` on the app's clock: the countdowns run from there.
let received = Date.now();
// What the last draw showed: a countdown in seconds, and the time to the next full minute.
let secondsNeeded = false;
let nextMinute = 60000;
let wake = null;

// Draws, then sleeps until a text can change: the next full minute, or the next second
// while a countdown shows seconds.
function schedule() {
  draw();
  clearTimeout(wake);
  wake = setTimeout(schedule, secondsNeeded ? 1000 : nextMinute + 50);
}

function draw() {
  if (!state) return;
  const exact = Date.parse(state.now) + (Date.now() - received);
  // Texts in whole minutes all move on the same full minute: one redraw a minute, not one
  // per text. Only a countdown's last two minutes use the exact time.
  const now = Math.floor(exact / 60000) * 60000;
  // Within two minutes of a deadline (either side) the exact time, and a wake each second.
  secondsNeeded = false;
  nextMinute = 60000 - (exact % 60000);
  const countdown = (to) => {
    if (Math.abs(to - exact) < 120000) {
      secondsNeeded = true;
      return to - exact;
    }
    return to - now;
  };
  set(document.getElementById('demo'), 'hidden', !state.demo);
  const broken = document.getElementById('config-broken');
  set(broken, 'textContent', state.configError
    ? `The config file has an error; the last config that loaded goes on: ${state.configError}` : '');
  set(broken, 'hidden', !state.configError);
  set(document.getElementById('welcome'), 'hidden', state.profiles.length > 0);
  set(document.getElementById('welcome-file'), 'textContent', state.configFile);
  // A profile removed from the config takes its card with it.
  const shown = new Set(state.profiles.map((p) => p.profile));
  for (const [id, c] of cards) {
    if (!shown.has(id)) {
      c.remove();
      cards.delete(id);
    }
  }
  for (const p of state.profiles) {
    const c = card(p);
    const status = p.status ?? 'checking';
    set(c.dataset, 'status', status);
    set(c.querySelector('.name'), 'textContent', p.name);
    set(c.querySelector('.status'), 'textContent', status);
    const left = p.trackedExpiresAt ? countdown(Date.parse(p.trackedExpiresAt)) : null;
    set(c.querySelector('.left'), 'textContent',
      left === null ? 'no session' : left > 0 ? `in ${span(left, true)}` : `passed ${span(-left)} ago`);
    set(c.querySelector('.age'), 'textContent',
      p.capturedAt ? `${span(now - Date.parse(p.capturedAt))} (tracked for ${p.trackedTtl})` : 'unknown');
    set(c.querySelector('.checked'), 'textContent',
      p.lastCheck ? `${span(now - Date.parse(p.lastCheck))} ago` : 'not yet');
    set(c.querySelector('.detail'), 'textContent', p.detail ?? '');
    const production = c.querySelector('.production');
    set(production, 'textContent', p.production ?? '');
    set(production, 'hidden', !p.production);
    set(c.querySelector('.learned'), 'textContent', p.learnedLifetime
      ? `median ${span(p.learnedLifetime.medianSecs * 1000)} (${p.learnedLifetime.ended} ended); 9 in 10 outlive ${p.suggestedTrackedTtl}` +
        (p.suggestedTrackedTtl !== p.trackedTtl ? ` — \`sessionkeeper learn ${p.profile} --apply\` sets tracked_ttl` : '')
      : 'not known yet (3 sessions must end)');
    set(c.querySelector('[data-action="push_again"]'), 'disabled', p.targets.length === 0);
    set(c.querySelector('.login-open'), 'hidden', !p.loginOpen);
    timeline(c.querySelector('.timeline'), c.querySelector('.timeline-legend'), p.timeline, now);
    const last = new Map(p.lastPushes.map((l) => [l.target, l]));
    // One fill for the list, whether it has targets or not: two would undo each other.
    const rows = p.targets.length
      ? p.targets.map((t) => [t, last.get(t.target) ?? null, targetState(t, countdown)])
      : [null];
    fill(c.querySelector('.targets'), rows, (row, i) => {
      if (!row) return el('li', 'no push targets in the config', 'muted');
      const [t, l, words] = row;
      const li = el('li');
      li.dataset.state = t.state;
      li.append(el('span', t.target), el('span', ` — ${words}`, t.state === 'failing' ? 'bad' : t.state === 'current' ? 'good' : ''));
      if (l) {
        li.append(el('span', `; last push ${when(l.at)}: ${l.detail}`, l.ok ? 'muted' : 'bad'));
        if (l.deploymentUrl) li.append(el('span', ` (${l.deploymentUrl})`, 'muted'));
      }
      const b = el('button', 'Push');
      b.type = 'button';
      b.setAttribute('aria-label', `Push again to ${t.target}`);
      b.addEventListener('click', () => act(c, b, () => commands.pushTarget(p.profile, i)));
      li.append(b);
      return li;
    });
    fill(c.querySelector('.audit-lines'), p.pushLog, (l) =>
      el('li', `${when(l.at)} ${l.ok ? '✓' : '✗'} ${l.target}: ${l.detail}${l.deploymentUrl ? ` (${l.deploymentUrl})` : ''}`, l.ok ? '' : 'bad'));
  }
}

function take(next) {
  state = next;
  received = Date.now();
  schedule();
}

async function refresh() {
  try {
    take(await commands.dashboardState());
  } catch (e) {
    showError(`Cannot read the state: ${e}`);
  }
}

function showError(text) {
  const err = document.getElementById('error');
  err.textContent = text;
  err.hidden = !text;
}

async function act(c, button, call) {
  const result = c.querySelector('.action-result');
  button.disabled = true;
  result.className = 'action-result';
  try {
    const answer = await call();
    result.textContent = typeof answer === 'string' ? answer : '';
    if (typeof answer === 'string') result.classList.add('good');
  } catch (e) {
    result.textContent = String(e);
    result.classList.add('bad');
  } finally {
    setTimeout(() => { button.disabled = false; }, 400);
  }
}

async function paste(event, profile) {
  event.preventDefault();
  const form = event.target;
  const result = form.querySelector('.paste-result');
  const text = form.elements.text.value;
  result.className = 'paste-result';
  result.textContent = 'Validating…';
  try {
    result.textContent = await commands.pasteSession(profile, text);
    result.classList.add('good');
    form.elements.text.value = '';
  } catch (e) {
    result.textContent = String(e);
    result.classList.add('bad');
  }
}

async function checkTokens(c, button, profile) {
  button.disabled = true;
  const list = c.querySelector('.reach');
  list.replaceChildren(el('li', 'Checking…', 'muted'));
  try {
    const reach = await commands.checkTokens(profile);
    list.replaceChildren(...(reach.length ? reach : [{ target: 'no push targets', ok: true, detail: '' }])
      .map((r) => el('li', `${r.ok ? '✓' : '✗'} ${r.target}${r.detail ? `: ${r.detail}` : ''}`, r.ok ? 'good' : 'bad')));
  } catch (e) {
    list.replaceChildren(el('li', String(e), 'bad'));
  } finally {
    button.disabled = false;
  }
}

async function configuration() {
  try {
    const cfg = await commands.configuration();
    document.getElementById('config-file').textContent = cfg.file;
    const ce = document.getElementById('config-error');
    ce.textContent = cfg.configError ? `The config file no longer loads (the app keeps the one it started with): ${cfg.configError}` : '';
    ce.hidden = !cfg.configError;
    const kc = document.getElementById('keychain-error');
    kc.textContent = cfg.keychainError ? `Keychain: ${cfg.keychainError}` : '';
    kc.hidden = !cfg.keychainError;
    document.getElementById('secrets').replaceChildren(...cfg.secrets.map((s) => {
      const tr = el('tr');
      tr.append(el('td', s.name), el('td', s.source ? `yes (${s.source})` : 'not set', s.source ? '' : 'bad'));
      return tr;
    }));
    for (const [id, problems] of Object.entries(cfg.problems)) {
      const c = cards.get(id);
      if (!c) continue;
      c.querySelector('.problems').replaceChildren(...(problems.length ? problems : ['nothing missing'])
        .map((p) => el('li', p, problems.length ? 'bad' : 'good')));
    }
  } catch (e) {
    showError(`Cannot read the configuration: ${e}`);
  }
}

// The app opens `index.html#<profile>` to bring a card forward with its paste form open
// (manual capture, or the system-browser fallback).
function focusHash() {
  const c = cards.get(decodeURIComponent(location.hash.slice(1)));
  if (!c) return;
  c.querySelector('details.paste').open = true;
  c.scrollIntoView({ block: 'nearest' });
  c.querySelector('textarea').focus();
}

window.addEventListener('hashchange', focusHash);
// Listen first, then read the state: nothing that changes in between is missed.
listen('state', (event) => take(event.payload))
  .catch((e) => showError(`Cannot follow the app's state: ${e}`))
  .then(refresh)
  .then(() => { focusHash(); configuration(); });
// The countdowns move by themselves (`schedule`); the app is not asked.
