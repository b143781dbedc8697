// Generated from src-tauri/commands.in by `cargo test -p sessionkeeper-app`: do not edit.
// The app's commands, one function each; the dashboard calls nothing else by name.
'use strict';

const commands = Object.freeze({
  dashboardState: () => window.__TAURI_INTERNALS__.invoke('dashboard_state', {}),
  validateNow: (profile) => window.__TAURI_INTERNALS__.invoke('validate_now', { profile }),
  reauthenticate: (profile) => window.__TAURI_INTERNALS__.invoke('reauthenticate', { profile }),
  openInBrowser: (profile) => window.__TAURI_INTERNALS__.invoke('open_in_browser', { profile }),
  pushAgain: (profile) => window.__TAURI_INTERNALS__.invoke('push_again', { profile }),
  copyExport: (profile) => window.__TAURI_INTERNALS__.invoke('copy_export', { profile }),
  pasteSession: (profile, text) => window.__TAURI_INTERNALS__.invoke('paste_session', { profile, text }),
  pushTarget: (profile, index) => window.__TAURI_INTERNALS__.invoke('push_target', { profile, index }),
  extendTracked: (profile) => window.__TAURI_INTERNALS__.invoke('extend_tracked', { profile }),
  configuration: () => window.__TAURI_INTERNALS__.invoke('configuration', {}),
  checkTokens: (profile) => window.__TAURI_INTERNALS__.invoke('check_tokens', { profile }),
  recordLogin: (name, loginUrl, apiUrl) => window.__TAURI_INTERNALS__.invoke('record_login', { name, loginUrl, apiUrl }),
  recordAgain: (apiUrl) => window.__TAURI_INTERNALS__.invoke('record_again', { apiUrl }),
  recordConfirm: (toml) => window.__TAURI_INTERNALS__.invoke('record_confirm', { toml }),
  recordCancel: () => window.__TAURI_INTERNALS__.invoke('record_cancel', {}),
  addTarget: (profile, target, token) => window.__TAURI_INTERNALS__.invoke('add_target', { profile, target, token }),
  checkTarget: (profile, target, token) => window.__TAURI_INTERNALS__.invoke('check_target', { profile, target, token }),
  checkSecretName: (name) => window.__TAURI_INTERNALS__.invoke('check_secret_name', { name }),
  setSecret: (name, value) => window.__TAURI_INTERNALS__.invoke('set_secret', { name, value }),
  setPrefill: (profile, prefill) => window.__TAURI_INTERNALS__.invoke('set_prefill', { profile, prefill }),
  setTimings: (profile, timings) => window.__TAURI_INTERNALS__.invoke('set_timings', { profile, timings }),
  applyLearned: (profile) => window.__TAURI_INTERNALS__.invoke('apply_learned', { profile }),
  removeProfile: (profile) => window.__TAURI_INTERNALS__.invoke('remove_profile', { profile }),
  takeOver: (profile) => window.__TAURI_INTERNALS__.invoke('take_over', { profile }),
});
