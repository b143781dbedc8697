// The dashboard: one card per profile, the configuration check, and the app's commands. The
// app sends the page its state when something changes (event `state`); in between, the page
// counts down by itself what is near. No framework, no network: only the Tauri IPC, which
// the app grants this window alone. Text only ever goes in through textContent; no value of
// a session or token is ever received.
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
// minutes.
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

// A moment as a clock reading, which stays true as time passes: "today 16:45", "tomorrow
// 09:10", "yesterday 14:02", or its date. `now` tells which day is today.
function at(ms, now) {
  const day = (t) => new Date(t).setHours(0, 0, 0, 0);
  const days = Math.round((day(ms) - day(now)) / 86400000);
  const time = new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (days === 0) return `today ${time}`;
  if (days === 1) return `tomorrow ${time}`;
  if (days === -1) return `yesterday ${time}`;
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

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
  c.querySelector('details.paste form').addEventListener('submit', (e) => paste(e, profile.profile));
  bindSettings(c, profile.profile);
  c.querySelector('.check-tokens').addEventListener('click', (e) => checkTokens(c, e.target, profile.profile));
  document.getElementById('cards').append(c);
  cards.set(profile.profile, c);
  return c;
}

// The sessions' spans up to `now`, the time of the state: the alive one is drawn as far as
// the app last saw it, so the timeline changes with the state, not with the clock.
function timeline(svg, legend, spans, now) {
  const key = JSON.stringify(spans) + now;
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
    t.textContent = `${s.source} ${when(s.capturedAt)}: ${kind === 'alive' ? 'alive for at least' : kind === 'died' ? 'refused after' : 'replaced after'} ${span(end - from)}`;
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
// When the last draw showed something that moves by itself: the time until its next change.
let nextChange = 60000;
let wake = null;

// Draws, then sleeps until a text can change. Times far from now are shown as clock
// readings ("today 16:45"), which do not move: an idle page then wakes once a day (at
// midnight, for "today" and "tomorrow"), and the app's process draws no frame for it. Only
// what is happening counts down: a session in its warning window (each minute), a retry, and
// the last two minutes before a deadline (each second).
function schedule() {
  draw();
  clearTimeout(wake);
  wake = setTimeout(schedule, nextChange + 50);
}

function draw() {
  if (!state) return;
  const exact = Date.parse(state.now) + (Date.now() - received);
  // Countdowns in whole minutes all move on the same full minute: one redraw a minute, not
  // one per text. Only the last two minutes before a deadline use the exact time.
  const now = Math.floor(exact / 60000) * 60000;
  nextChange = new Date(exact).setHours(24, 0, 0, 0) - exact;
  const changesIn = (ms) => { nextChange = Math.min(nextChange, Math.max(ms, 0)); };
  const countdown = (to) => {
    if (Math.abs(to - exact) < 120000) {
      changesIn(1000);
      return to - exact;
    }
    changesIn(60000 - (exact % 60000));
    return to - now;
  };
  // A deadline: its clock reading, with a countdown while it is near (`live`) or within two
  // minutes; the page wakes when it comes within two minutes.
  const deadline = (to, live) => {
    if (!live && Math.abs(to - exact) >= 120000) {
      if (to > exact) changesIn(to - 120000 - exact);
      return to > exact ? at(to, exact) : `passed ${at(to, exact)}`;
    }
    const left = countdown(to);
    return left > 0 ? `${at(to, exact)}, in ${span(left, true)}` : `passed ${span(-left)} ago (${at(to, exact)})`;
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
    set(c.querySelector('.left'), 'textContent', p.trackedExpiresAt
      ? deadline(Date.parse(p.trackedExpiresAt), status === 'expiring') : 'no session');
    set(c.querySelector('.age'), 'textContent',
      p.capturedAt ? `${at(Date.parse(p.capturedAt), exact)} (tracked for ${p.trackedTtl})` : 'unknown');
    set(c.querySelector('.checked'), 'textContent',
      p.lastCheck ? at(Date.parse(p.lastCheck), exact) : 'not yet');
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
    set(c.querySelector('.team'), 'textContent', p.team ?? '');
    set(c.querySelector('.team'), 'hidden', !p.team);
    set(c.querySelector('[data-action="take_over"]'), 'hidden', !p.claim);
    c.prefill = p.prefill;
    // The login form's fields: as configured, or the usual ones until the human says otherwise.
    const fields = c.querySelector('.credentials-form').elements;
    if (!fields.usernameField.dataset.touched) {
      set(fields.usernameField, 'value', p.prefill?.username ?? 'input[autocomplete=username], input[type=email], input[name*=user i], input[id*=user i]');
      set(fields.passwordField, 'value', p.prefill?.password ?? 'input[type=password]');
    }
    timeline(c.querySelector('.timeline'), c.querySelector('.timeline-legend'), p.timeline, Date.parse(state.now));
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

// The profiles and their targets as last seen: when they change, the configuration check
// (which secrets each needs) is read again.
let shape = null;

function take(next) {
  state = next;
  received = Date.now();
  schedule();
  drawRecording();
  const now = JSON.stringify(next.profiles.map((p) => [p.profile, p.targets.length]));
  if (shape !== null && shape !== now) configuration();
  shape = now;
}

// Runs `call` and shows its answer (or its error) in `out`; true when it succeeded.
async function report(out, call, busy = '…') {
  out.classList.remove('good', 'bad');
  out.textContent = busy;
  try {
    const answer = await call();
    out.textContent = typeof answer === 'string' ? answer : '';
    out.classList.add('good');
    return true;
  } catch (e) {
    out.textContent = String(e);
    out.classList.add('bad');
    return false;
  }
}

// "Add a session": the recorder's state and its proposal.
function drawRecording() {
  const r = state.recording;
  set(document.getElementById('record-status'), 'textContent', r ? r.message : '');
  set(document.getElementById('record-ask-url'), 'hidden', !(r && r.state === 'ask-url'));
  set(document.getElementById('proposal'), 'hidden', !(r && r.state === 'proposed'));
  if (!r || !r.toml) return;
  set(document.getElementById('proposal-name'), 'textContent', `${r.name} (${r.id})`);
  fill(document.getElementById('proposal-words'), r.words, (w) => el('li', w));
  const toml = document.getElementById('proposal-toml');
  // Only a new proposal replaces the text: the human's edits stay.
  if (toml.dataset.key !== r.toml) {
    toml.dataset.key = r.toml;
    toml.value = r.toml;
  }
}

function bindRecorder() {
  const form = document.getElementById('add-form');
  const status = document.getElementById('record-status');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const e = form.elements;
    report(status, () => commands.recordLogin(e.name.value, e.loginUrl.value, e.apiUrl.value), 'Opening the login window…');
  });
  document.getElementById('record-again').addEventListener('click', () => {
    report(status, () => commands.recordAgain(document.getElementById('record-api-url').value));
  });
  const result = document.getElementById('proposal-result');
  document.getElementById('proposal-confirm').addEventListener('click', async () => {
    const ok = await report(result, () => commands.recordConfirm(document.getElementById('proposal-toml').value),
      'Writing the profile, then validating and storing the session…');
    if (ok) form.reset();
  });
  document.getElementById('record-cancel').addEventListener('click', () => {
    commands.recordCancel();
    result.textContent = 'Cancelled: nothing was written.';
  });
}

// A target form's fields as the app reads them (`NewTarget`).
function targetOf(form) {
  const e = form.elements;
  const text = (input) => input.value.trim() || null;
  if (e.to.value === 'github') {
    return { to: 'github', apiUrl: text(e.apiUrl), repo: text(e.repo), environment: text(e.environment), org: text(e.org), secret: e.secret.value.trim() };
  }
  return {
    to: 'vercel', apiUrl: text(e.apiUrl), project: e.project.value.trim(), env: e.env.value.trim(),
    targets: ['production', 'preview', 'development'].filter((t) => e[t].checked),
    type: e.type.value, redeploy: e.redeploy.checked,
  };
}

// A card's forms: push targets, SSO credentials, timings, removal.
function bindSettings(c, id) {
  const tf = c.querySelector('.target-form');
  const kind = () => {
    tf.querySelector('fieldset.github').hidden = tf.elements.to.value !== 'github';
    tf.querySelector('fieldset.vercel').hidden = tf.elements.to.value !== 'vercel';
  };
  tf.elements.to.addEventListener('change', kind);
  kind();
  const nameCheck = tf.querySelector('.secret-check');
  tf.elements.secret.addEventListener('input', async () => {
    const name = tf.elements.secret.value.trim();
    nameCheck.classList.remove('good', 'bad');
    if (!name) { nameCheck.textContent = ''; return; }
    try {
      await commands.checkSecretName(name);
      if (tf.elements.secret.value.trim() !== name) return;
      nameCheck.textContent = '✓ a valid GitHub secret name';
      nameCheck.classList.add('good');
    } catch (e) {
      if (tf.elements.secret.value.trim() !== name) return;
      nameCheck.textContent = String(e);
      nameCheck.classList.add('bad');
    }
  });
  const token = () => tf.elements.token.value || null;
  const reach = tf.querySelector('.target-reach');
  tf.querySelector('.check-target').addEventListener('click', async (event) => {
    event.target.disabled = true;
    reach.replaceChildren(el('li', 'Checking…', 'muted'));
    try {
      const answers = await commands.checkTarget(id, targetOf(tf), token());
      reach.replaceChildren(...answers.map((r) => el('li', `${r.ok ? '✓' : '✗'} ${r.target}${r.detail ? `: ${r.detail}` : ''}`, r.ok ? 'good' : 'bad')));
    } catch (e) {
      reach.replaceChildren(el('li', String(e), 'bad'));
    } finally {
      event.target.disabled = false;
    }
  });
  tf.addEventListener('submit', async (event) => {
    event.preventDefault();
    const ok = await report(tf.querySelector('.target-result'), () => commands.addTarget(id, targetOf(tf), token()));
    if (ok) {
      tf.elements.token.value = '';
      configuration();
    }
  });
  const cf = c.querySelector('.credentials-form');
  for (const name of ['usernameField', 'passwordField']) {
    cf.elements[name].addEventListener('input', () => { cf.elements[name].dataset.touched = '1'; });
  }
  cf.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = cf.elements.username.value;
    const password = cf.elements.password.value;
    cf.elements.password.value = '';
    await report(cf.querySelector('.credentials-result'), async () => {
      const said = [];
      // The fields they are filled into: saved first (the keychain items are only used then).
      const fields = { username: cf.elements.usernameField.value.trim() || null, password: cf.elements.passwordField.value.trim() || null };
      const now = c.prefill ?? {};
      if (fields.username !== (now.username ?? null) || fields.password !== (now.password ?? null)) {
        said.push(await commands.setPrefill(id, fields));
      }
      if (username) said.push(await commands.setSecret(`profile:${id}:username`, username));
      if (password) said.push(await commands.setSecret(`profile:${id}:password`, password));
      if (!said.length) throw new Error('Type a username or a password first.');
      return said.join(' ');
    });
    cf.elements.username.value = '';
    configuration();
  });
  const timings = c.querySelector('.timings-form');
  const timingsOut = timings.querySelector('.timings-result');
  timings.addEventListener('submit', (event) => {
    event.preventDefault();
    const e = timings.elements;
    const value = (input) => input.value.trim() || null;
    report(timingsOut, () => commands.setTimings(id, {
      trackedTtl: value(e.trackedTtl), warnBefore: value(e.warnBefore),
      pollEvery: value(e.pollEvery), refreshBefore: value(e.refreshBefore),
    }));
  });
  timings.querySelector('.apply-learned').addEventListener('click', () => report(timingsOut, () => commands.applyLearned(id)));
  const confirmRemove = c.querySelector('.remove-confirm');
  c.querySelector('.remove').addEventListener('click', () => { confirmRemove.hidden = false; });
  // The card goes with the profile: the answer is shown above the cards.
  c.querySelector('.remove-yes').addEventListener('click', () => report(document.getElementById('notice'), () => commands.removeProfile(id), `Removing ${id}…`));
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
      tr.dataset.secret = s.name;
      const form = el('form');
      const input = el('input');
      input.type = 'password';
      input.autocomplete = 'off';
      input.name = 'value';
      input.setAttribute('aria-label', `New value of ${s.name}`);
      const button = el('button', 'Set');
      button.type = 'submit';
      const out = el('span', '', 'muted');
      out.setAttribute('role', 'status');
      form.append(input, button, out);
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const value = input.value;
        input.value = '';
        if (await report(out, () => commands.setSecret(s.name, value))) configuration();
      });
      const td = el('td');
      td.append(form);
      tr.append(el('td', s.name), el('td', s.source ? `yes (${s.source})` : 'not set', s.source ? '' : 'bad'), td);
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
// `index.html#+add` (the tray's "Add a session…") brings the form forward.
function focusHash() {
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash === '+add') {
    document.getElementById('add-session').scrollIntoView({ block: 'nearest' });
    document.getElementById('add-name').focus();
    return;
  }
  const c = cards.get(hash);
  if (!c) return;
  c.querySelector('details.paste').open = true;
  c.scrollIntoView({ block: 'nearest' });
  c.querySelector('details.paste textarea').focus();
}

bindRecorder();

window.addEventListener('hashchange', focusHash);
// Listen first, then read the state: nothing that changes in between is missed.
listen('state', (event) => take(event.payload))
  .catch((e) => showError(`Cannot follow the app's state: ${e}`))
  .then(refresh)
  .then(() => { focusHash(); configuration(); });
// The countdowns move by themselves (`schedule`); the app is not asked.
