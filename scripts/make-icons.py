#!/usr/bin/env python3
"""Draws the app icon and the four tray-state icons (icons/*.png) with nothing but the
standard library: a filled, anti-aliased disc on a transparent background. Run it again after
changing a colour; the PNGs are committed."""
import math
import pathlib
import struct
import zlib

COLOURS = {
    "tray-valid": (46, 160, 67),     # green: every session valid
    "tray-expiring": (219, 155, 0),  # amber: one is about to expire
    "tray-invalid": (207, 34, 46),   # red: one must be logged in again
    "tray-unknown": (128, 128, 128), # grey: not checked yet, or could not check
    "icon": (46, 110, 200),          # the app icon
}


def disc(size, rgb):
    rows = []
    c = (size - 1) / 2
    r = size * 0.42
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            d = math.hypot(x - c, y - c)
            a = max(0.0, min(1.0, r - d + 0.5))
            row += bytes([*rgb, int(a * 255)])
        rows.append(bytes(row))
    return b"".join(rows)


def png(size, pixels):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")


out = pathlib.Path(__file__).resolve().parent.parent / "icons"
out.mkdir(exist_ok=True)
for name, rgb in COLOURS.items():
    size = 128 if name == "icon" else 32
    (out / f"{name}.png").write_bytes(png(size, disc(size, rgb)))
# The app icon at the hicolor theme's sizes, for the packages' menu entry.
for size in (32, 48, 64, 128, 256, 512):
    (out / f"{size}x{size}.png").write_bytes(png(size, disc(size, COLOURS["icon"])))
