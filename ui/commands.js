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
});
