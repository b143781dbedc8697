#!/usr/bin/env python3
"""Writes the packages' copyright file (Debian's machine-readable format): Session Keeper's own
licence, then every crate compiled into the two binaries (the app without the simulator, and
the CLI) with its licence expression, as cargo-deny resolves the graph and cargo metadata
states the licences. Usage: licenses.py OUT"""
import json
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parents[2]


def graph(manifest, *flags):
    out = subprocess.run(
        ["cargo", "deny", "--manifest-path", str(root / manifest), "--exclude-dev", *flags,
         "list", "--layout", "crate", "--format", "json"],
        check=True, capture_output=True, text=True, cwd=root,
    ).stdout
    return set(json.loads(out))


crates = graph("src-tauri/Cargo.toml", "--no-default-features") | graph("crates/cli/Cargo.toml")
meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--locked"],
    check=True, capture_output=True, text=True, cwd=root,
).stdout)
ours = {p["name"] for p in meta["packages"] if p.get("source") is None}
licence = {}
for p in meta["packages"]:
    licence[f'{p["name"]} {p["version"]}'] = (p.get("license") or "see its licence file", p.get("repository") or "")

lines = [
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
    "Upstream-Name: Session Keeper",
    "Source: https://github.com/sessionkeeper/sessionkeeper",
    "",
    "Files: *",
    "Copyright: Session Keeper contributors",
    "License: MIT or Apache-2.0",
    "",
    "Comment: The binaries are built from these Rust crates (crates.io), under these licences:",
]
for key in sorted({" ".join(c.split(" ")[:2]) for c in crates}):
    name = key.split(" ")[0]
    if name in ours:
        continue
    expr, repo = licence.get(key, ("unknown", ""))
    lines.append(f" {key}: {expr}" + (f" <{repo}>" if repo else ""))
pathlib.Path(sys.argv[1]).write_text("\n".join(lines) + "\n")
print(f"licences: {len(lines) - 9} crates", file=sys.stderr)
