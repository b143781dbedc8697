// The dashboard: draws one card per profile from `dashboard_state` (polled every second while
// the window is open), and calls the app's typed commands. No framework, no network: only the
// Tauri IPC, which the app grants this window alone.
'use strict';

const invoke = (cmd, args) => window.__TAURI_INTERNALS__.invoke(cmd, args);
const cards = new Map();
let state = null;

function span(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

function card(profile) {
  let el = cards.get(profile.id);
  if (el) return el;
  el = document.getElementById('card').content.firstElementChild.cloneNode(true);
  el.id = `card-${profile.id}`;
  el.dataset.profile = profile.id;
  el.querySelectorAll('[data-action]').forEach((b) => {
    b.addEventListener('click', () => act(b, profile.id));
  });
  el.querySelector('form').addEventListener('submit', (e) => paste(e, profile.id));
  document.getElementById('cards').append(el);
  cards.set(profile.id, el);
  return el;
}

function draw() {
  if (!state) return;
  const skew = Date.now() - Date.parse(state.now);
  const now = Date.now() - skew;
  document.getElementById('demo').hidden = !state.demo;
  for (const p of state.profiles) {
    const el = card(p);
    const status = p.status ?? 'checking';
    el.dataset.status = status;
    el.querySelector('.name').textContent = p.name;
    el.querySelector('.status').textContent = status;
    const left = p.trackedExpiresAt ? Date.parse(p.trackedExpiresAt) - now : null;
    el.querySelector('.left').textContent =
      left === null ? 'no session' : left > 0 ? `in ${span(left)}` : `passed ${span(-left)} ago`;
    el.querySelector('.checked').textContent =
      p.checkedAt ? `${span(now - Date.parse(p.checkedAt))} ago` : 'not yet';
    el.querySelector('.detail').textContent = p.detail;
    el.querySelector('.targets').textContent = p.targets.length ? p.targets.join(', ') : 'nothing';
    el.querySelector('[data-action="push_again"]').disabled = p.targets.length === 0;
    el.querySelector('.login-open').hidden = !p.loginOpen;
  }
}

async function refresh() {
  try {
    state = await invoke('dashboard_state');
    document.getElementById('error').hidden = true;
  } catch (e) {
    const err = document.getElementById('error');
    err.textContent = `Cannot read the state: ${e}`;
    err.hidden = false;
  }
  draw();
}

async function act(button, profile) {
  button.disabled = true;
  try {
    await invoke(button.dataset.action, { profile });
  } catch (e) {
    document.getElementById('error').textContent = String(e);
    document.getElementById('error').hidden = false;
  } finally {
    setTimeout(() => { button.disabled = false; refresh(); }, 400);
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
    result.textContent = await invoke('paste_session', { profile, text });
    result.classList.add('good');
    form.elements.text.value = '';
  } catch (e) {
    result.textContent = String(e);
    result.classList.add('bad');
  }
  refresh();
}

// The app opens `index.html#<profile>` to bring a card forward with its paste form open
// (manual capture, or the system-browser fallback).
function focusHash() {
  const el = cards.get(decodeURIComponent(location.hash.slice(1)));
  if (!el) return;
  el.querySelector('details.paste').open = true;
  el.scrollIntoView({ block: 'nearest' });
  el.querySelector('textarea').focus();
}

window.addEventListener('hashchange', focusHash);
refresh().then(focusHash);
setInterval(refresh, 1000);
