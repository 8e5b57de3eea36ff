#!/usr/bin/env python3
"""Adds the glyphs the arcade needs to Spleen 16x32, drawn on its own 16x32 pixel grid.

Spleen has no Greek letters and no padlock: α fell back to a sans font where it looks like "a",
and the lock drew as a plain square. This writes assets/fonts/spleen-16x32-arcade.otf from
assets/fonts/spleen-16x32.otf (the original is kept; Spleen's BSD-2-Clause licence applies to
both, see assets/fonts/LICENSE-spleen.txt):

  α (U+03B1)  a closed bowl with tails out to the upper and lower right, unlike Spleen's "a"
  🔒 (U+1F512) a padlock, 🔓 (U+1F513) the same with its shackle open

Needs fonttools (`pip install fonttools`). Run from the repository root.
"""

from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._c_m_a_p import cmap_format_12

SOURCE = "assets/fonts/spleen-16x32.otf"
TARGET = "assets/fonts/spleen-16x32-arcade.otf"
PIXEL = 32  # font units per pixel (1024 units = 32 pixels)
ASCENT_PIXELS = 26  # row 26 from the top is the baseline
WIDTH = 16 * PIXEL

# Rows from the top of the 32-pixel cell; '#' is ink. Spleen's x-height runs from row 12 to 25.
ALPHA = {
    12: "....######...##.",
    13: "...########..##.",
    14: "..###....###.##.",
    15: "..##......#####.",
    16: "..##.......####.",
    17: "..##.......###..",
    18: "..##.......##...",
    19: "..##.......##...",
    20: "..##.......###..",
    21: "..##.......####.",
    22: "..##......#####.",
    23: "..###....###.##.",
    24: "...########..###",
    25: "....######....##",
}

LOCK_BODY = {
    14: ".##############.",
    15: ".##############.",
    16: ".##############.",
    17: ".######..######.",
    18: ".#####....#####.",
    19: ".#####....#####.",
    20: ".######..######.",
    21: ".######..######.",
    22: ".######..######.",
    23: ".##############.",
    24: ".##############.",
    25: ".##############.",
}

LOCK = {
    6: ".....######.....",
    7: "....########....",
    8: "...###....###...",
    9: "...##......##...",
    10: "...##......##...",
    11: "...##......##...",
    12: "...##......##...",
    13: "...##......##...",
    **LOCK_BODY,
}

UNLOCK = {
    3: ".....######.....",
    4: "....########....",
    5: "...###....###...",
    6: "...##......##...",
    7: "...##......##...",
    8: "...##...........",
    9: "...##...........",
    10: "...##...........",
    11: "...##...........",
    12: "...##...........",
    13: "...##...........",
    **LOCK_BODY,
}

GLYPHS = [("alpha", 0x03B1, ALPHA), ("lock", 0x1F512, LOCK), ("unlock", 0x1F513, UNLOCK)]


def charstring(rows, top_dict, global_subrs):
    """One rectangle per run of ink in a row, all wound the same way."""
    pen = T2CharStringPen(WIDTH, None)
    for row, line in rows.items():
        assert len(line) == 16, (row, line)
        y0 = (ASCENT_PIXELS - row - 1) * PIXEL
        x = 0
        while x < 16:
            if line[x] != "#":
                x += 1
                continue
            start = x
            while x < 16 and line[x] == "#":
                x += 1
            left, right = start * PIXEL, x * PIXEL
            pen.moveTo((left, y0))
            pen.lineTo((left, y0 + PIXEL))
            pen.lineTo((right, y0 + PIXEL))
            pen.lineTo((right, y0))
            pen.closePath()
    return pen.getCharString(private=top_dict.Private, globalSubrs=global_subrs)


def main():
    font = TTFont(SOURCE)
    cff = font["CFF "].cff
    top = cff.topDictIndex[0]
    strings = top.CharStrings
    order = list(font.getGlyphOrder())
    for name, codepoint, rows in GLYPHS:
        assert name not in strings.charStrings, f"{name} is already in {SOURCE}"
        cs = charstring(rows, top, cff.GlobalSubrs)
        strings.charStringsIndex.append(cs)
        strings.charStrings[name] = len(strings.charStringsIndex) - 1
        order.append(name)
        left = min(line.index("#") for line in rows.values()) * PIXEL
        font["hmtx"].metrics[name] = (WIDTH, left)
    # The CFF charset and the font's glyph order must list the same names in the same order.
    top.charset = list(order)
    font.setGlyphOrder(order)
    font["maxp"].numGlyphs = len(order)

    # Format 4 tables hold the BMP (α); the padlocks are past U+FFFF and need a format 12 table.
    full = {}
    for table in font["cmap"].tables:
        if table.isUnicode():
            full.update(table.cmap)
    for name, codepoint, _ in GLYPHS:
        full[codepoint] = name
        for table in font["cmap"].tables:
            if table.isUnicode() and codepoint <= 0xFFFF:
                table.cmap[codepoint] = name
    wide = cmap_format_12(12)
    wide.platformID, wide.platEncID, wide.language = 3, 10, 0
    wide.cmap = full
    font["cmap"].tables.append(wide)
    font["name"].setName("Spleen 16x32 Arcade", 1, 3, 1, 0x409)
    font["name"].setName("Spleen 16x32 Arcade", 4, 3, 1, 0x409)
    font.save(TARGET)
    print(f"wrote {TARGET}: {', '.join(f'{n} U+{c:04X}' for n, c, _ in GLYPHS)}")


if __name__ == "__main__":
    main()
