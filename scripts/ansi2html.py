#!/usr/bin/env python3
"""Turn `tmux capture-pane -e -p` output (SGR colour escapes) into a standalone HTML page.

Used by scripts/screenshots.sh; handles the SGR codes a ratatui/crossterm program emits:
reset, bold, dim, italic, underline, reverse, 16 colours, 256 colours and 24-bit colours.
"""
import html
import re
import sys

BASE16 = [
    "#1d1f21", "#cc6666", "#b5bd68", "#f0c674", "#81a2be", "#b294bb", "#8abeb7", "#c5c8c6",
    "#666666", "#d54e53", "#b9ca4a", "#e7c547", "#7aa6da", "#c397d8", "#70c0b1", "#eaeaea",
]
FG, BG = "#c5c8c6", "#1d1f21"


def color256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (v, v, v)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.underline = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.underline = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = BASE16[c - 30]
            elif 90 <= c <= 97:
                self.fg = BASE16[c - 90 + 8]
            elif 40 <= c <= 47:
                self.bg = BASE16[c - 40]
            elif 100 <= c <= 107:
                self.bg = BASE16[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    col = color256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    col = "#%02x%02x%02x" % tuple(codes[i + 2:i + 5])
                    i += 4
                else:
                    col = None
                if c == 38:
                    self.fg = col
                else:
                    self.bg = col
                i += 1
            i += 1

    def css(self):
        fg, bg = self.fg or FG, self.bg or BG
        if self.reverse:
            fg, bg = bg, fg
        parts = ["color:%s" % fg, "background:%s" % bg]
        if self.bold:
            parts.append("font-weight:bold")
        if self.dim:
            parts.append("opacity:0.7")
        if self.italic:
            parts.append("font-style:italic")
        if self.underline:
            parts.append("text-decoration:underline")
        return ";".join(parts)


def convert(text, title):
    style = Style()
    out = []
    pos = 0
    for m in re.finditer(r"\x1b\[([0-9;]*)m", text):
        chunk = text[pos:m.start()]
        if chunk:
            out.append('<span style="%s">%s</span>' % (style.css(), html.escape(chunk)))
        style.apply(m.group(1))
        pos = m.end()
    if text[pos:]:
        out.append('<span style="%s">%s</span>' % (style.css(), html.escape(text[pos:])))
    body = "".join(out)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>%s</title><style>"
        "body{margin:0;background:%s}"
        "pre{margin:0;padding:10px;font:15px/1.2 'DejaVu Sans Mono',monospace;color:%s}"
        "</style></head><body><pre>%s</pre></body></html>" % (html.escape(title), BG, FG, body)
    )


if __name__ == "__main__":
    title = sys.argv[1] if len(sys.argv) > 1 else "switchyard"
    sys.stdout.write(convert(sys.stdin.read(), title))
