#!/usr/bin/env python3
"""Draw the app's icons (the web app manifest's, README "Offline"): www/icons/icon-192.png and
icon-512.png. Plain Python (no imaging library on a fresh machine), deterministic; the PNGs are
committed, so this runs only when the drawing changes:

    python3 scripts/draw-icons.py

The drawing: two ticket cards, one over the other, with a green "=" badge (two incidents found to
be the same), on the app's accent blue. The manifest declares them for purpose "any" (drawn to the
edge), not "maskable"."""
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "www", "icons")
ACCENT = (0x0B, 0x63, 0xC5)
WHITE = (0xFF, 0xFF, 0xFF)
PALE = (0xB8, 0xD3, 0xF2)
LINE = (0x0B, 0x63, 0xC5)
OK = (0x1B, 0x7F, 0x4B)


def rounded(x, y, x0, y0, x1, y1, r):
    """Is (x, y) inside the rectangle [x0, x1] x [y0, y1] with corners of radius r?"""
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def colour(x, y):
    """The colour at (x, y), both in [0, 1], last shape drawn wins."""
    c = ACCENT
    # The card behind, up and to the left.
    if rounded(x, y, 0.17, 0.20, 0.66, 0.62, 0.05):
        c = PALE
    # The card in front, with three lines of text.
    if rounded(x, y, 0.32, 0.36, 0.83, 0.80, 0.05):
        c = WHITE
        for top, right in ((0.46, 0.72), (0.55, 0.66), (0.64, 0.70)):
            if rounded(x, y, 0.40, top, right, top + 0.04, 0.02):
                c = LINE
    # A round "same" badge on the front card's corner.
    if (x - 0.76) ** 2 + (y - 0.36) ** 2 <= 0.085**2:
        c = OK
        # Two white bars: "=".
        for top in (0.325, 0.375):
            if 0.715 <= x <= 0.805 and top - 0.012 <= y <= top + 0.012:
                c = WHITE
    return c


def draw(size, samples=4):
    rows = []
    for py in range(size):
        row = bytearray([0])  # PNG filter type 0 for each scanline
        for px in range(size):
            acc = [0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    c = colour((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size)
                    for i in range(3):
                        acc[i] += c[i]
            n = samples * samples
            row.extend(round(a / n) for a in acc)
        rows.append(bytes(row))
    return b"".join(rows)


def png(size, pixels):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")


def main():
    os.makedirs(OUT, exist_ok=True)
    for size in (192, 512):
        path = os.path.join(OUT, f"icon-{size}.png")
        with open(path, "wb") as f:
            f.write(png(size, draw(size)))
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
