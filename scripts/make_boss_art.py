#!/usr/bin/env python3
"""Draw the boss stage's pixel art: "The Frozen Giant", the player's ship and the gradient shot.

Usage (Python 3.8+, standard library only):
    python3 scripts/make_boss_art.py                 # writes assets/boss/{boss,player,shot}.png + sheet.json
    python3 scripts/make_boss_art.py --preview P.png # also a 4x preview of every frame on the game's background

The giant is the frozen pretrained matrix W: a golem built from a grid of icy weight tiles whose
shades vary like a heat map. Its weak point is the pair of glowing orange low-rank strips in its
chest, B (tall and thin) and A (short and wide), the only trainable parts. As the validation loss
falls it cracks and its tiles go dark; defeated, it shatters and only the trained adapter (B, A)
is left floating. Everything is drawn here, deterministically (no randomness except a fixed
xorshift), into indexed PNGs with one 16-colour palette (index 0 transparent).
"""

import argparse
import json
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assets" / "boss"
FRAME = 96  # boss frame size in px
COLS = 4  # frames per row in boss.png; one animation per row

# fmt: off
# Palette (index 0 is transparent). The blues, orange, yellow, cream and pink are the game's own
# (src/game/ui/theme.rs: GOOD, BAD, ACCENT, INK, HEART, DIM); the rest are shades between them.
PALETTE = [
    (0, 0, 0),         # 0  transparent
    (8, 8, 26),        # 1  outline / seams (darker than the BG 16,14,40 so edges read on it)
    (28, 58, 128),     # 2  ice shadow
    (44, 104, 196),    # 3  ice dark
    (64, 180, 255),    # 4  ice (theme GOOD)
    (150, 220, 255),   # 5  ice light
    (244, 238, 220),   # 6  frost / white (theme INK)
    (150, 58, 16),     # 7  ember (dark orange)
    (255, 128, 32),    # 8  adapter orange (theme BAD)
    (255, 210, 63),    # 9  glow yellow (theme ACCENT)
    (40, 42, 74),      # 10 dead tile dark
    (72, 76, 116),     # 11 dead tile
    (150, 144, 190),   # 12 dead tile light (theme DIM)
    (24, 21, 58),      # 13 hole / recess (theme PANEL_DARK)
    (255, 82, 160),    # 14 spark pink (theme HEART)
    (255, 246, 200),   # 15 hot white (core at full glow)
]
# fmt: on
T, O, SH, ID, IC, IL, W, EM, OR, YE, DD, DM, DL, HO, PK, HW = range(16)
BG = (16, 14, 40)  # theme BG, only for the preview

CHARS = {".": T, "o": O, "s": SH, "d": ID, "i": IC, "l": IL, "w": W, "e": EM, "r": OR, "y": YE,
         "D": DD, "M": DM, "L": DL, "h": HO, "p": PK, "H": HW}


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = [[T] * w for _ in range(h)]

    def set(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            self.px[y][x] = c

    def get(self, x, y):
        return self.px[y][x] if 0 <= x < self.w and 0 <= y < self.h else T

    def rect(self, x0, y0, x1, y1, c):
        """Filled, inclusive corners."""
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                self.set(x, y, c)

    def frame_rect(self, x0, y0, x1, y1, c):
        for x in range(x0, x1 + 1):
            self.set(x, y0, c)
            self.set(x, y1, c)
        for y in range(y0, y1 + 1):
            self.set(x0, y, c)
            self.set(x1, y, c)

    def line(self, x0, y0, x1, y1, c, only_on=None):
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            if only_on is None or self.get(x0, y0) in only_on:
                self.set(x0, y0, c)
            if x0 == x1 and y0 == y1:
                break
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def blit(self, other, ox, oy):
        for y in range(other.h):
            for x in range(other.w):
                c = other.px[y][x]
                if c != T:
                    self.set(ox + x, oy + y, c)

    def ascii(self, rows, ox, oy):
        for y, row in enumerate(rows):
            for x, ch in enumerate(row):
                if ch != " " and CHARS[ch] != T:
                    self.set(ox + x, oy + y, CHARS[ch])

    def copy(self):
        c = Canvas(self.w, self.h)
        c.px = [row[:] for row in self.px]
        return c


class Rng:
    """xorshift32: the same numbers on every Python and platform."""

    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFF or 1

    def next(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.s = s
        return s

    def below(self, n):
        return self.next() % n


# ---------------------------------------------------------------- the giant's anatomy

TILE = 7  # a weight tile's inside; tiles sit on an 8 px pitch with 1 px seams


class Tile:
    def __init__(self, x, y, value, part, w=TILE, h=TILE):
        self.x, self.y, self.w, self.h = x, y, w, h
        self.value, self.part = value, part


def grid(x0, y0, cols, rows, part, values):
    """cols x rows tiles whose seams start at (x0, y0); values[r][c] in 0..2."""
    return [Tile(x0 + 1 + 8 * c, y0 + 1 + 8 * r, values[r][c], part) for r in range(rows) for c in range(cols)]


# W's "weights": three shades like a heat map (0 dark, 1 mid, 2 light), fixed.
TORSO_VALUES = [
    [1, 2, 1, 0, 1, 2],
    [2, 0, 9, 9, 2, 1],
    [1, 1, 9, 9, 0, 1],
    [0, 2, 1, 1, 2, 0],
    [1, 0, 2, 0, 1, 2],
]  # 9: the chest recess that holds the adapter
HEAD_VALUES = [[1, 2, 2, 1], [9, 9, 9, 9], [0, 1, 1, 0]]  # middle row: the visor

TORSO = (23, 30, 6, 5)  # seam origin x, y and tiles across, down
HEAD = (31, 7, 4, 3)


# limbs: seam origin, tiles across and down, shades
LIMBS = {
    "larm": (7, 34, 1, 3, [[1], [0], [1]]),  # upper arms: behind the shoulders and fists
    "rarm": (79, 34, 1, 3, [[0], [1], [0]]),
    "lshoulder": (9, 27, 2, 1, [[2, 1]]),  # pauldrons over the torso's top corners
    "rshoulder": (69, 27, 2, 1, [[1, 2]]),
    "lfist": (3, 58, 2, 2, [[2, 1], [1, 0]]),  # fists hang low, apart from the body
    "rfist": (75, 58, 2, 2, [[1, 2], [0, 1]]),
    "lleg": (25, 70, 2, 2, [[0, 1], [1, 0]]),
    "rleg": (53, 70, 2, 2, [[1, 0], [0, 1]]),
}


def anatomy():
    tiles = []
    tx, ty, tc, tr = TORSO
    for t in grid(tx, ty, tc, tr, "torso", TORSO_VALUES):
        if t.value != 9:
            tiles.append(t)
    hx, hy, hc, hr = HEAD
    for t in grid(hx, hy, hc, hr, "head", HEAD_VALUES):
        if t.value != 9:
            tiles.append(t)
    for part, (x, y, c, r, vals) in LIMBS.items():
        tiles += grid(x, y, c, r, part, vals)
    return tiles


UPPER = {"torso", "head", "lshoulder", "rshoulder", "larm", "rarm", "lfist", "rfist"}


def tile_shades(t, state):
    """(fill, light edge, dark edge, glint) for a tile in state 'ok' / 'dead'."""
    if state == "dead":
        return DM, DL, DD, DL
    return [(ID, IC, SH, IL), (IC, IL, ID, W), (IL, W, IC, W)][t.value]


def draw_tile(cv, t, state, dy=0):
    x0, y0, x1, y1 = t.x, t.y + dy, t.x + t.w - 1, t.y + dy + t.h - 1
    cv.frame_rect(x0 - 1, y0 - 1, x1 + 1, y1 + 1, O)
    if state == "hole":
        cv.rect(x0, y0, x1, y1, HO)
        cv.set(x0, y1, O)
        return
    fill, light, dark, glint = tile_shades(t, state)
    cv.rect(x0, y0, x1, y1, fill)
    cv.line(x0, y0, x1 - 1, y0, light)
    cv.line(x0, y0, x0, y1 - 1, light)
    cv.line(x0 + 1, y1, x1, y1, dark)
    cv.line(x1, y0 + 1, x1, y1, dark)
    cv.set(x0 + 1, y0 + 1, glint)


def damage_order():
    """Tiles in the order they die: a fixed shuffle, the chest's neighbours last."""
    tiles = anatomy()
    rng = Rng(0xB055)
    keyed = []
    for i, t in enumerate(tiles):
        k = rng.below(1000)
        if t.part == "head":
            k += 350  # the head holds out longest
        keyed.append((k, i))
    return [i for _, i in sorted(keyed)]


# how much of the giant is gone at each hurt stage: (dead fraction, hole fraction, removed count)
HURT = {"full": (0.0, 0.0, 0), "h66": (0.2, 0.0, 0), "h33": (0.45, 0.08, 2), "h10": (0.7, 0.15, 5)}
# tiles knocked clean off (transparent) as the giant falls apart, in order
REMOVED = [("torso", 5, 4), ("torso", 0, 4), ("lfist", 0, 1), ("torso", 5, 0), ("rshoulder", 1, 0)]


def tile_states(stage):
    tiles = anatomy()
    dead_f, hole_f, removed = HURT[stage]
    order = damage_order()
    states = ["ok"] * len(tiles)
    n_dead = int(round(dead_f * len(tiles)))
    n_hole = int(round(hole_f * len(tiles)))
    for i in order[:n_dead]:
        states[i] = "dead"
    # holes: the first of the dead ones go hollow
    for i in order[:n_hole]:
        states[i] = "hole"
    for part, c, r in REMOVED[:removed]:
        for i, t in enumerate(tiles):
            base = TORSO if part == "torso" else LIMBS[part]
            if t.part == part and t.x == base[0] + 1 + 8 * c and t.y == base[1] + 1 + 8 * r:
                states[i] = "gone"
    return tiles, states


# cracks: polylines in frame coordinates (before the breathing offset), added stage by stage
CRACKS = {
    "h66": [[(27, 36), (33, 43), (31, 49), (38, 55)], [(64, 57), (60, 62), (66, 68)], [(48, 12), (46, 16)]],
    "h33": [[(70, 40), (63, 46), (66, 52), (58, 56)], [(14, 57), (19, 63), (16, 68)],
            [(38, 10), (42, 14)], [(30, 60), (36, 64), (33, 69)], [(28, 73), (33, 79), (30, 85)]],
    "h10": [[(47, 31), (44, 36)], [(50, 62), (45, 66), (49, 70)], [(74, 60), (81, 64), (78, 69)],
            [(58, 75), (62, 81), (59, 86)], [(56, 23), (60, 27)], [(24, 32), (29, 34)]],
}


def cracks_until(stage):
    out = []
    for s in ["h66", "h33", "h10"]:
        if HURT[s][0] > HURT[stage][0]:
            break
        out += CRACKS[s]
    return out


def draw_crack(cv, pts, dy):
    ice = {ID, IC, IL, W, SH, DM, DL, DD}
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        # a light chipped edge under the dark split, so it reads on dark and light tiles
        cv.line(x0 + 1, y0 + dy + 1, x1 + 1, y1 + dy + 1, IL, only_on={ID, IC, SH, DM, DD})
        cv.line(x0, y0 + dy, x1, y1 + dy, O, only_on=ice)


# ---------------------------------------------------------------- the giant's features

HORN_L = [  # growing from the side of the head, curling up and out; the right horn mirrors it
    "oo.........",
    "olo........",
    "oilo.......",
    "oiilo......",
    ".oiilo.....",
    ".oiilwo....",
    "..oiilwo...",
    "..oiiilwoo.",
    "...oiiilwwo",
    "....ooiilwo",
    "......oooo.",
]
ICICLES = ["oooooooooooooooo", ".oio.olo..oio...", ".oi...o...oi....", "..o........o...."]
SNOW_SHOULDER = [
    "..oooooooooooo...",
    ".owwwwwwwwwwwwwo.",
    "owwwwwwwwwwwwwwwo",
    "olwwlwwwwlwwwlwlo",
    "o.l..l..l..l..l.o",
]


def draw_horns(cv, stage, dy):
    hx, hy = HEAD[0], HEAD[1] + dy
    left = HORN_L
    right = [row[::-1] for row in HORN_L]
    if stage == "h66":
        right = right[2:]  # chipped tip
    elif stage == "h33":
        left = left[4:]  # snapped
        right = right[2:]
    elif stage == "h10":
        left = left[5:]
        right = right[4:]
    base = hy + 5  # the horns' roots sit at the top row's seam, beside the head
    cv.ascii(left, hx - 9, base - len(left) + 1)
    cv.ascii(right, hx + 33 + 9 - 11, base - len(right) + 1)


def draw_snow(cv, stage, dy):
    lx, ly = LIMBS["lshoulder"][:2]
    rx, ry = LIMBS["rshoulder"][:2]
    if stage in ("full", "h66", "h33"):
        cv.ascii(SNOW_SHOULDER, lx, ly - 3 + dy)
    if stage in ("full", "h66"):
        cv.ascii([row[::-1] for row in SNOW_SHOULDER], rx, ry - 3 + dy)
    # snow cap on the head
    hx, hy = HEAD[0], HEAD[1] + dy
    if stage != "h10":
        cv.ascii(["o" * 33], hx, hy - 1)
        cv.ascii([".wwwwwwwwwwwwwwwwwwwwwwwwwwwwwww."], hx, hy)
        cv.ascii([".l.wwl.w.lw.ww.l.wlw.w.l.ww.l.w."], hx, hy + 1)


def draw_icicles(cv, stage, dy):
    # hanging under the pauldrons, between the upper arms and the torso
    y = LIMBS["lshoulder"][1] + 9 + dy
    if stage in ("full", "h66"):
        cv.ascii([".oio.", ".oio.", ".oio.", "..o.."], 16, y)
        cv.ascii([".olo.", "..o.."], 73, y)
    if stage == "full":
        cv.ascii([".olo.", "..o.."], 19, y)
        cv.ascii([".oio.", ".oio.", "..o.."], 75, y)


def draw_visor(cv, stage, dy, eyes="angry"):
    """The head's middle row: a dark visor band with two glowing eyes."""
    hx, hy = HEAD[0], HEAD[1] + 8 + dy
    cv.rect(hx, hy, hx + 32, hy + 8, O)
    cv.rect(hx + 1, hy + 1, hx + 31, hy + 7, HO)
    if eyes == "x":
        for ex in (hx + 5, hx + 21):
            cv.line(ex, hy + 2, ex + 5, hy + 6, DL)
            cv.line(ex + 5, hy + 2, ex, hy + 6, DL)
        return
    if eyes == "squint":
        for ex, flip in ((hx + 5, False), (hx + 21, True)):
            pts = [(0, 1), (5, 3), (0, 5)] if not flip else [(5, 1), (0, 3), (5, 5)]
            for (ax, ay), (bx, by) in zip(pts, pts[1:]):
                cv.line(ex + ax, hy + ay, ex + bx, hy + by, HW)
        return
    glow_out, glow_in = (YE, HW) if stage in ("full", "h66") else (OR, YE)
    if stage == "h10":
        glow_out, glow_in = (EM, OR)
    for side, ex in ((0, hx + 4), (1, hx + 21)):
        # an 8 x 5 eye; the brow slants down toward the nose (angry) or up (worried)
        cv.rect(ex, hy + 2, ex + 7, hy + 6, glow_out)
        cv.rect(ex + 2, hy + 3, ex + 5, hy + 5, glow_in)
        # pupils look down at the player
        px = ex + (4 if side == 0 else 3)
        cv.rect(px, hy + 4, px + 1, hy + 5, O)
        if eyes == "angry" or stage in ("full", "h66", "h33"):
            for k in range(4):
                bx = ex + (4 + k if side == 0 else 3 - k)
                for yy in range(hy + 1, hy + 3 + k // 2):
                    cv.set(bx, yy, HO)
        if eyes == "worried" or stage == "h10":
            for k in range(3):
                bx = ex + (k if side == 0 else 7 - k)
                for yy in range(hy + 1, hy + 2 + (1 if k < 2 else 0)):
                    cv.set(bx, yy, HO)
    if stage == "h33":  # the right eye is cracked
        ex = hx + 21
        cv.line(ex + 1, hy + 2, ex + 6, hy + 6, HO)
    if stage == "h10":  # one eye has gone out
        ex = hx + 21
        cv.rect(ex, hy + 2, ex + 7, hy + 6, HO)
        cv.line(ex + 1, hy + 4, ex + 6, hy + 4, EM)


def draw_mouth(cv, stage, dy):
    """A grille of teeth across the head's bottom row: a grin, a bit too wide."""
    hx, hy = HEAD[0], HEAD[1] + 16 + dy
    y = hy + 3
    cv.rect(hx + 7, y, hx + 25, y + 3, O)
    for k in range(5):
        tx = hx + 8 + 4 * k
        lost = (stage == "h33" and k == 3) or (stage == "h10" and k in (1, 3, 4))
        if not lost:
            cv.rect(tx, y + 1, tx + 2, y + 2, W)
            cv.set(tx + 2, y + 2, IL)


def draw_core(cv, glow, dy):
    """The chest recess, glowing, with the adapter in it: B (3 x 11, tall) and A (7 x 3, wide).

    glow 0..3: the recess fills with light from its rim inward, the strips heat from orange to white.
    """
    tx, ty = TORSO[0] + 16, TORSO[1] + 8 + dy  # seam origin of the 2 x 2 recess
    cv.frame_rect(tx, ty, tx + 16, ty + 16, O)
    rings = [[HO, HO, HO], [EM, HO, HO], [OR, EM, EM], [YE, OR, EM]][glow]
    cv.rect(tx + 1, ty + 1, tx + 15, ty + 15, rings[2])
    cv.frame_rect(tx + 1, ty + 1, tx + 15, ty + 15, rings[0])
    cv.frame_rect(tx + 2, ty + 2, tx + 14, ty + 14, rings[1])
    draw_adapter(cv, tx + 3, ty + 3, glow)


def draw_adapter(cv, bx, by, glow):
    """B: tall and thin (3 x 11); A: short and wide (6 x 3) to its right, a gap between: "B A"."""
    body, hot = [(OR, YE), (OR, YE), (YE, HW), (HW, HW)][glow]
    edge = [EM, EM, OR, YE][glow]
    ax, ay = bx + 5, by + 4
    for x0, y0, x1, y1 in ((bx, by, bx + 2, by + 10), (ax, ay, ax + 5, ay + 2)):
        cv.frame_rect(x0 - 1, y0 - 1, x1 + 1, y1 + 1, O)
        cv.rect(x0, y0, x1, y1, body)
        cv.line(x0, y1, x1, y1, edge)
        cv.line(x1, y0, x1, y1, edge)
        cv.set(x0, y0, hot)


def draw_sparks(cv, pts, colours=(YE, PK, HW)):
    for k, (x, y) in enumerate(pts):
        c = colours[k % len(colours)]
        cv.set(x, y, c)
        cv.set(x - 1, y, c)
        cv.set(x + 1, y, c)
        cv.set(x, y - 1, c)
        cv.set(x, y + 1, c)
        cv.set(x, y, HW)


# feet: a flat slab under each leg
FOOT = [
    "ooooooooooooooooooooo",
    "owwlwwwlwwwwlwwwlwwwo",
    "oiiiiiiiiiiiiiiiiiiio",
    "oddddddddddddddddddso",
    "ooooooooooooooooooooo",
]


def giant(stage="full", breathe=0, glow=1, eyes="angry"):
    cv = Canvas(FRAME, FRAME)
    tiles, states = tile_states(stage)
    # lower body first so the torso overlaps it when it breathes down
    for foot_x in (23, 51):
        cv.ascii(FOOT, foot_x, 86)
        if stage == "h10" and foot_x == 51:
            cv.ascii(["ooo", "oDo", "ooo"], foot_x + 17, 88)
    for t, s in zip(tiles, states):
        if t.part not in UPPER and s != "gone":
            draw_tile(cv, t, s)
    dy = breathe
    # the upper arms sit behind the shoulders and fists
    layer = {"larm": 0, "rarm": 0, "torso": 1, "head": 1}
    order = sorted(range(len(tiles)), key=lambda i: layer.get(tiles[i].part, 2))
    for i in order:
        t, s = tiles[i], states[i]
        if t.part in UPPER and s != "gone":
            draw_tile(cv, t, s, dy)
    draw_visor(cv, stage, dy, eyes)
    draw_mouth(cv, stage, dy)
    draw_core(cv, glow, dy)
    draw_snow(cv, stage, dy)
    draw_horns(cv, stage, dy)
    draw_icicles(cv, stage, dy)
    for pts in cracks_until(stage):
        upper = pts[0][1] < 70
        draw_crack(cv, pts, dy if upper else 0)
    # clear pixels of removed tiles that cracks or snow may have touched
    for t, s in zip(tiles, states):
        if s == "gone":
            d = dy if t.part in UPPER else 0
            cv.rect(t.x, t.y + d, t.x + t.w - 1, t.y + d + t.h - 1, T)
            # close the outline around the gap
            for x in range(t.x - 1, t.x + t.w + 1):
                for y in range(t.y + d - 1, t.y + d + t.h + 1):
                    if cv.get(x, y) == O:
                        n = [cv.get(x + ax, y + ay) for ax, ay in ((1, 0), (-1, 0), (0, 1), (0, -1))]
                        if all(v in (T, O) for v in n):
                            cv.set(x, y, T)
    return cv


# ---------------------------------------------------------------- frames


def flash(cv, colour, keep_outline=True):
    out = cv.copy()
    for y in range(cv.h):
        for x in range(cv.w):
            c = cv.px[y][x]
            if c != T and not (keep_outline and c == O):
                out.px[y][x] = colour
    return out


def pieces(base, stage, dy):
    """Cut a frame into pieces: every weight tile with its seams, the rest in 6 x 6 chunks."""
    owner = [[None] * FRAME for _ in range(FRAME)]
    tiles, states = tile_states(stage)
    layer = {"larm": 0, "rarm": 0, "torso": 1, "head": 1}
    order = sorted(range(len(tiles)), key=lambda i: -layer.get(tiles[i].part, 2))
    for i in order:
        t = tiles[i]
        if states[i] == "gone":
            continue
        d = dy if t.part in UPPER else 0
        for y in range(t.y + d - 1, t.y + d + t.h + 1):
            for x in range(t.x - 1, t.x + t.w + 1):
                if owner[y][x] is None and base.get(x, y) != T:
                    owner[y][x] = ("tile", i)
    for y in range(FRAME):
        for x in range(FRAME):
            if owner[y][x] is None and base.get(x, y) != T:
                owner[y][x] = ("chunk", x // 6, y // 6)
    groups = {}
    for y in range(FRAME):
        for x in range(FRAME):
            if owner[y][x] is not None:
                groups.setdefault(owner[y][x], []).append((x, y, base.px[y][x]))
    out = []
    for key in sorted(groups, key=str):
        px = groups[key]
        cx = sum(p[0] for p in px) / len(px)
        cy = sum(p[1] for p in px) / len(px)
        counts = {}
        for _, _, c in px:
            if c != O:
                counts[c] = counts.get(c, 0) + 1
        main = max(sorted(counts), key=lambda c: counts[c]) if counts else O
        out.append({"px": px, "cx": cx, "cy": cy, "main": main, "size": len(px)})
    return out


DIM_OF = {W: IL, IL: IC, IC: ID, ID: SH, SH: DD, HW: YE, YE: OR, OR: EM, DL: DM, DM: DD, HO: O}
DEAD_OF = {W: DL, IL: DL, IC: DM, ID: DM, SH: DD, DL: DM, DM: DD, DD: DD, HW: OR, YE: OR, OR: EM, EM: EM, HO: DD}


def shard(cv, x, y, w, h, colour):
    """A small outlined block of `colour`, lit on its top edge."""
    light = {ID: IC, IC: IL, IL: W, SH: ID, DM: DL, DD: DM, DL: W, EM: OR, OR: YE}.get(colour, colour)
    cv.frame_rect(x - 1, y - 1, x + w, y + h, O)
    cv.rect(x, y, x + w - 1, y + h - 1, colour)
    cv.line(x, y, x + w - 1, y, light)


def shatter(parts, t, seed):
    """Pieces thrown from the chest outward and up, then falling: t = 0 is the whole giant."""
    out = Canvas(FRAME, FRAME)
    rng = Rng(seed)
    cx0, cy0 = 47, 52
    for p in parts:
        jx, jy = rng.below(21) - 10, rng.below(21) - 10
        vx = (p["cx"] - cx0) * 0.09 + jx * 0.08
        vy = (p["cy"] - cy0) * 0.04 - 0.5 + jy * 0.06
        ox = int(round(vx * t * 3))
        oy = int(round(vy * t * 3 + 1.4 * t * t))
        top = min(y for _, y, _ in p["px"])
        bottom = max(y for _, y, _ in p["px"])
        oy = max(-top, min(oy, FRAME - 1 - bottom))  # keep every piece inside the frame
        for x, y, c in p["px"]:
            out.set(x + ox, y + oy, c)
    return out


def debris(parts, t, seed, ground=90):
    """Later: the pieces as small shards, flying (t < 1) or lying on the ground (t = 1)."""
    out = Canvas(FRAME, FRAME)
    rng = Rng(seed)
    cx0, cy0 = 47, 46
    heap = []
    for p in parts:
        jx, jy, js = rng.below(21) - 10, rng.below(21) - 10, rng.below(3)
        if p["size"] < 20 and js:
            continue  # small bits vanish
        if t >= 1 and p["size"] < 60 and js == 0:
            continue  # and some melt away
        if t < 1:
            vx = (p["cx"] - cx0) * 0.09 + jx * 0.08
            vy = (p["cy"] - cy0) * 0.07 - 1.2 + jy * 0.06
            x = int(round(p["cx"] + vx * 7))
            y = int(round(p["cy"] + vy * 7 + 1.4 * 5))
            shard(out, x - 2, min(y - 2, ground - 4), 5, 4, p["main"])
        else:
            heap.append((p, jx, js))
    # t = 1: the shards land on a heap, each on top of what is already under it
    height = [0] * FRAME
    for p, jx, js in heap:
        x = int(round(cx0 + (p["cx"] - cx0) * 0.8 + jx * 0.5))
        w, h = 4 + (js == 2), 2 + (js != 1)
        # it slides off to the lowest spot nearby, so the heap spreads into a mound
        spots = [k for k in range(x - 8, x + 9) if 2 <= k <= FRAME - w - 2]
        if not spots:
            continue
        x = min(spots, key=lambda k: (max(height[k - 1 : k + w + 1]), abs(k - x)))
        y = ground - h - max(height[x - 1 : x + w + 1])
        shard(out, x, y, w, h, (DIM_OF if js == 2 else DEAD_OF).get(p["main"], DD))
        for k in range(x - 1, x + w + 1):
            height[k] = ground - (y - 1)
    return out


def frames():
    f = {}
    # idle: breathing (the upper body sinks 1 px) and the adapter's glow pulsing
    f["idle_0"] = giant("full", 0, 1)
    f["idle_1"] = giant("full", 0, 2)
    f["idle_2"] = giant("full", 1, 3)
    f["idle_3"] = giant("full", 1, 2)
    # hit: a white flash, then an icy one with squinting eyes
    f["hit_0"] = flash(giant("full", 0, 3, "squint"), HW)
    hit1 = flash(giant("full", 0, 3, "squint"), IL)
    draw_visor(hit1, "full", 0, "squint")
    draw_core(hit1, 3, 0)
    f["hit_1"] = hit1
    # hurt: 66 %, 33 %, 10 % health
    f["hurt_66"] = giant("h66", 0, 2)
    f["hurt_33"] = giant("h33", 0, 2)
    h10 = giant("h10", 1, 3, "worried")
    draw_sparks(h10, [(20, 25), (80, 50), (36, 64)])
    f["hurt_10"] = h10
    # defeated: X eyes and a last flash, then pieces fly; at the end only the adapter is left
    d0 = giant("h10", 1, 3, "x")
    draw_sparks(d0, [(17, 21), (79, 22), (47, 3), (86, 72), (10, 80)])
    f["defeated_0"] = d0
    base = giant("h10", 1, 1, "x")
    parts = pieces(base, "h10", 1)
    f["defeated_1"] = shatter(parts, 1.0, 7)
    d2 = debris(parts, 0.6, 7)
    draw_adapter(d2, 42, 38, 3)
    draw_sparks(d2, [(26, 20), (70, 24), (47, 8)], (YE, HW, OR))
    f["defeated_2"] = d2
    # the end: a heap of frozen tiles, and the trained adapter left floating above it
    d3 = debris(parts, 1.0, 7)
    draw_adapter(d3, 42, 30, 3)
    draw_sparks(d3, [(34, 24), (62, 30), (48, 18), (57, 47)], (YE, OR, HW))
    f["defeated_3"] = d3
    return f


ANIMS = {
    "idle": (["idle_0", "idle_1", "idle_2", "idle_3"], [260, 200, 260, 200], True),
    "hit": (["hit_0", "hit_1"], [60, 60], False),
    "hurt": (["hurt_66", "hurt_33", "hurt_10"], None, False),
    "defeated": (["defeated_0", "defeated_1", "defeated_2", "defeated_3"], [400, 150, 250, 1500], False),
}


# ---------------------------------------------------------------- player and shot

# The player: the update, a small Δ-shaped ship (ΔW = B·A), in the game's blue and cream.
PLAYER = [
    ".......ww.......",
    "......owwo......",
    "......oilo......",
    ".....oiyyio.....",
    ".....oiyHio.....",
    "....oiiyyiio....",
    "....oiiwwiio....",
    "...oiiwddwiio...",
    "...oiwddddwio...",
    "..oiiwwwwwwiio..",
    "..oiddddddddio..",
    ".oiiiiiiiiiiiio.",
    "orroiiiiiiiiorro",
    "oeo.oooooooo.oeo",
]
FLAME = [
    ["......oyyo......", ".......rr.......", "................"],
    ["......oHHo......", "......oyyo......", ".......rr......."],
]
# The shot: a gradient, ∇, glowing.
SHOT = [
    "rrrrrrrr",
    "rHHHHHHr",
    ".ryooyr.",
    ".rHooHr.",
    "..ryyr..",
    "..rHHr..",
    "...rr...",
    "...ee...",
]


def player_frames():
    out = []
    for k in range(2):
        cv = Canvas(16, 16)
        cv.ascii(PLAYER, 0, 0)
        cv.ascii(FLAME[k], 0, 13)
        out.append(cv)
    return out


def shot_frame():
    cv = Canvas(8, 8)
    cv.ascii(SHOT, 0, 0)
    return cv


# ---------------------------------------------------------------- PNG writing


def png_bytes(w, h, rows, colour_type, palette=None, trns=None):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if trns is not None:
        out += chunk(b"tRNS", bytes(trns))
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def write_indexed(path, cv):
    trns = [0] + [255] * (len(PALETTE) - 1)
    path.write_bytes(png_bytes(cv.w, cv.h, cv.px, 3, PALETTE, trns))


def write_preview(path, cvs, scale=4, gap=4):
    """RGB, on the game's background, frames side by side, scaled with nearest neighbour."""
    w = sum(c.w for c in cvs) + gap * (len(cvs) + 1)
    h = max(c.h for c in cvs) + 2 * gap
    img = [[BG] * w for _ in range(h)]
    x = gap
    for c in cvs:
        for y in range(c.h):
            for xx in range(c.w):
                p = c.px[y][xx]
                if p != T:
                    img[gap + y][x + xx] = PALETTE[p]
        x += c.w + gap
    rows = []
    for row in img:
        line = []
        for px in row:
            line.extend(list(px) * scale)
        for _ in range(scale):
            rows.append(line)
    path.write_bytes(png_bytes(w * scale, h * scale, rows, 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--preview", type=Path, help="also write a 4x preview of every frame here")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    fr = frames()
    rows = [ANIMS[a][0] for a in ("idle", "hit", "hurt", "defeated")]
    sheet = Canvas(FRAME * COLS, FRAME * len(rows))
    rects = {}
    for r, names in enumerate(rows):
        for c, name in enumerate(names):
            sheet.blit(fr[name], c * FRAME, r * FRAME)
            rects[name] = {"x": c * FRAME, "y": r * FRAME, "w": FRAME, "h": FRAME, "index": r * COLS + c}
    write_indexed(args.out / "boss.png", sheet)

    pl = player_frames()
    pcv = Canvas(32, 16)
    pcv.blit(pl[0], 0, 0)
    pcv.blit(pl[1], 16, 0)
    write_indexed(args.out / "player.png", pcv)
    shot = shot_frame()
    write_indexed(args.out / "shot.png", shot)

    meta = {
        "about": "The Frozen Giant, boss of the boss stage. Made by scripts/make_boss_art.py; do not edit by hand.",
        "image": "boss.png",
        "frame_size": {"w": FRAME, "h": FRAME},
        "grid": {"columns": COLS, "rows": len(rows), "note": "one animation per row; empty cells are transparent"},
        "anchor": {"x": 47, "y": 90, "note": "between the feet, on the ground line (bottom row of the feet)"},
        "weak_point": {"x": TORSO[0] + 16, "y": TORSO[1] + 8, "w": 17, "h": 17,
                       "note": "the adapter (B, A) in the chest; 1 px lower in idle_2, idle_3, hurt_10"},
        "frames": rects,
        "animations": {
            name: {"frames": fs, "ms": ms, "loop": loop}
            for name, (fs, ms, loop) in ANIMS.items()
        },
        "hurt_stages": {"hurt_66": 0.66, "hurt_33": 0.33, "hurt_10": 0.10,
                        "note": "show the stage whose health fraction is the smallest one still >= the boss's health; idle above 66 %"},
        "hit_note": "hit_0, hit_1 are flash silhouettes: show them for 60 ms each, then go back to the current idle or hurt frame",
        "palette": ["#%02x%02x%02x" % c for c in PALETTE[1:]],
        "player": {"image": "player.png", "frame_size": {"w": 16, "h": 16},
                   "frames": {"player_0": {"x": 0, "y": 0, "w": 16, "h": 16}, "player_1": {"x": 16, "y": 0, "w": 16, "h": 16}},
                   "animations": {"fly": {"frames": ["player_0", "player_1"], "ms": [90, 90], "loop": True}},
                   "muzzle": {"x": 7, "y": 0}},
        "shot": {"image": "shot.png", "frame_size": {"w": 8, "h": 8}, "speed_px_per_s_suggested": 240},
    }
    (args.out / "sheet.json").write_text(json.dumps(meta, indent=2) + "\n")

    if args.preview:
        order = [n for names in rows for n in names]
        write_preview(args.preview, [fr[n] for n in order] + pl + [shot])


if __name__ == "__main__":
    main()
