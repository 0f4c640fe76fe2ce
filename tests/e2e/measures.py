"""The 适老化 numbers of a page, measured in the browser.

工业和信息化部《互联网网站适老化通用设计规范》(2021) and the issue ask, at a 360 px viewport:

| measure      | normal | 大字 (长辈版) |
|--------------|--------|---------------|
| text         | ≥ 16 px | ≥ 18 px |
| key figures  | —       | ≥ 30 px (elements marked `.key-figure`: serial, state, amounts, points) |
| line height  | ≥ 1.3   | ≥ 1.3 |
| contrast     | ≥ 4.5 : 1, ≥ 3 : 1 for text above 18 px | the same |
| tap targets  | ≥ 44 × 44 px | ≥ 60 × 60 px |
| overflow     | no sideways scrolling, no clipped text | the same |

`MEASURE` runs in the page and returns, for each measure, the worst value on the page with the
element where it occurs, and the problems (values that miss the number). Text inside a sentence
that is a link is not a tap target of its own (WCAG 2.5.8's inline exception); a control that is
disabled is exempt from contrast (WCAG 1.4.3's inactive components).

How the text-size variants are emulated (`TextScale`): the browser's default font size is set
through the DevTools protocol (`Page.setFontSizes`, what Chromium's own font-size setting
changes), 16 px × the scale. Every size in the app's stylesheets is relative (em, rem, %), so
the whole page's text grows by the scale, as it does when a phone's WebView text zoom
(WeChat's font setting, Android's text scaling) or a browser's "zoom text only" is turned up;
boxes sized in px (a tap target's minimum) do not grow, as they do not with text zoom.
- 200 %: the browser's text zoom at 200 % (WCAG 1.4.4), in the normal mode: 32 px.
- 关怀模式: WeChat's care mode turns its in-app browser's text to its largest setting; its
  largest step is reported at about 1.4–1.6 × (the setting is WeChat's, not published), so it
  is emulated as 150 % on top of 大字, the mode a person who turned on 关怀模式 would also pick:
  22 px × 1.5 = 33 px main text on the residents' pages.
Both variants are judged on overflow only (no sideways scrolling, no clipped text); their
text size is reported, to show the zoom took.
"""

from dataclasses import dataclass

# Pages that are paper, not phone screens: a page says so with a `data-paper` attribute on any
# element, or has no stylesheet but print ones (file names with "print" or "paper" in them).
IS_PAPER = """
() => !!document.querySelector('[data-paper]') || (() => {
  const sheets = [...document.querySelectorAll('link[rel=stylesheet]')].map((l) => l.href);
  return sheets.length > 0 && sheets.every((href) => /print|paper/.test(href.split('/').pop()));
})()
"""

MEASURE = """
(limits) => {
  const problems = [];
  const worst = {};
  const note = (measure, value, where, lower = true) => {
    const known = worst[measure];
    if (!known || (lower ? value < known[0] : value > known[0])) worst[measure] = [value, where];
  };
  const root = document.documentElement;
  const width = root.clientWidth;
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && style.visibility !== 'hidden' && style.opacity !== '0';
  };
  const describe = (el) => {
    const classes = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '')
      .replace(/\\s+/g, ' ').trim();
    const id = el.id ? '#' + el.id : '';
    return `<${el.tagName.toLowerCase()}${id}${classes}> "${text.slice(0, 30)}"`;
  };
  const round = (v) => Math.round(v * 100) / 100;

  // --- overflow: sideways scrolling and clipped text -----------------------------------------
  const over = root.scrollWidth - width;
  note('overflow', Math.max(over, 0), over > 0 ? 'the page' : '', false);
  if (over > 0) problems.push(`scrolls sideways: ${root.scrollWidth}px wide in ${width}px`);
  const all = [...document.body.querySelectorAll('*')];
  for (const el of all) {
    if (!shown(el)) continue;
    const style = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const text = (el.innerText || '').trim();
    if (!text) continue;
    // Past the viewport's edge (a parent's overflow: hidden would hide the scroll bar).
    const past = Math.max(r.right - width, -r.left);
    const edge = (node) => {
      const box = node.getBoundingClientRect();
      return Math.max(box.right - width, -box.left);
    };
    // The outermost element past the edge says where: its rows and cells are past it too.
    const parentPast = el.parentElement && el.parentElement !== document.body
      && edge(el.parentElement) >= past - 1;
    if (past > 1 && !parentPast && !el.closest('.visually-hidden')) {
      note('overflow', round(past), describe(el), false);
      const where = describe(el);
      problems.push(`clips or scrolls: ${Math.round(past)}px past the screen's edge: ${where}`);
    }
    const clips = ['hidden', 'clip', 'auto', 'scroll'];
    const wide = el.scrollWidth - el.clientWidth;
    const tall = el.scrollHeight - el.clientHeight;
    const sideways = clips.includes(style.overflowX) && wide > 1;
    const cut = ['hidden', 'clip'].includes(style.overflowY) && tall > 1;
    const ellipsis = style.textOverflow === 'ellipsis' && wide > 0;
    if ((sideways || cut || ellipsis) && !el.matches('.visually-hidden, select, textarea, input')) {
      note('overflow', Math.max(wide, tall), describe(el), false);
      problems.push(`clips or scrolls its text (${wide}px wide, ${tall}px tall): ${describe(el)}`);
    }
  }

  // --- no time limit, no puzzle, no state by colour alone ---------------------------------
  if (document.querySelector('meta[http-equiv="refresh" i]')) {
    problems.push('moves on by itself (meta refresh): a time limit that hurries a person');
  }
  if (document.querySelector('[class*="captcha" i], [id*="captcha" i], iframe')) {
    problems.push('a CAPTCHA or a frame from elsewhere');
  }
  for (const badge of document.querySelectorAll('.badge')) {
    if (shown(badge) && !(badge.innerText || '').trim()) {
      problems.push(`a state told by colour alone (a badge without words): ${describe(badge)}`);
    }
  }

  // --- tap targets ---------------------------------------------------------------------------
  // A link inside a sentence is exempt (WCAG 2.5.8): its size is the text's.
  const inSentence = (el) => {
    if (el.matches('.button')) return false;
    const block = el.parentElement;
    return block && block.textContent.trim().length > el.textContent.trim().length;
  };
  const controls =
    'a[href], button, input:not([type=hidden]), select, textarea, summary, label[for]';
  for (const el of document.querySelectorAll(controls)) {
    let target = el;
    if (el.matches('label[for]')) {
      const control = document.getElementById(el.htmlFor);
      if (!control || shown(control)) continue;  // the label of a hidden control is the target
    }
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      target = el.closest('label') || (el.labels && el.labels[0]) || el;  // one taps the label
    }
    if (!shown(el) && target === el) continue;
    if (el.matches('a') && inSentence(el)) continue;
    const r = target.getBoundingClientRect();
    const side = Math.min(r.width, r.height);
    note('target', round(side), describe(el));
    if (side < limits.target - 0.5) {
      const size = `${Math.round(r.width)}×${Math.round(r.height)}`;
      problems.push(`small tap target ${size}: ${describe(el)}`);
    }
  }

  // --- text: size, line height, contrast -----------------------------------------------------
  const rgba = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over_ = (top, bottom) => {  // top composited over an opaque bottom
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = over_(layer, result);
    return result;
  };
  const opacity = (el) => {
    let value = 1;
    for (let node = el; node; node = node.parentElement) {
      value *= Number(getComputedStyle(node).opacity);
    }
    return value;
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const texts = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    texts.add(walker.currentNode.parentElement);
  }
  const fields = 'input:not([type=hidden]), select, textarea, button';
  for (const el of document.querySelectorAll(fields)) texts.add(el);
  for (const el of texts) {
    if (!shown(el) || el.closest('.visually-hidden, svg, noscript')) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    note('font', size, describe(el));
    if (size < limits.font - 0.05) problems.push(`text of ${size}px: ${describe(el)}`);
    const figure = el.closest('.key-figure');
    if (figure) {
      note('figure', size, describe(el));
      if (limits.figure && size < limits.figure - 0.05) {
        problems.push(`key figure of ${size}px: ${describe(el)}`);
      }
    }
    // "normal" is the font's own spacing, 1.2 or less in most fonts: not a number we set. A
    // closed <select> is one line whose height Chromium sets itself (line-height: normal).
    const line = style.lineHeight === 'normal' ? 1.2 : parseFloat(style.lineHeight) / size;
    if (!el.matches('select')) note('line', round(line), describe(el));
    if (line < limits.line - 0.005 && !el.matches('select')) {
      const what = `${style.lineHeight} at ${size}px`;
      problems.push(`line height ${round(line)} (${what}): ${describe(el)}`);
    }
    if (el.disabled) continue;
    const ink = rgba(style.color);
    ink[3] *= opacity(el);
    const ground = background(el);
    const ratio = contrast(over_(ink, ground), ground);
    const needed = size > 18 ? 3 : 4.5;
    // Worst against what the size needs: a ratio of 3.2 at 24 px is fine, at 16 px it is not.
    note('contrast', round(ratio), `${describe(el)} at ${size}px`);
    if (ratio < needed - 0.005) {
      const what = `(needs ${needed}) at ${size}px`;
      problems.push(`contrast ${round(ratio)}:1 ${what}: ${describe(el)}`);
    }
  }
  const figures = document.querySelectorAll('.key-figure').length;
  return { worst, problems, figures };
}
"""


@dataclass(frozen=True)
class Mode:
    """One way a person sees the pages: the type size chosen, the text zoom, the numbers."""

    name: str
    large: bool
    text_scale: float = 1.0
    font: float = 16
    figure: float = 0  # key figures: no number of their own in the normal mode
    target: float = 44
    line: float = 1.3
    overflow_only: bool = False

    def limits(self) -> dict:
        return {
            "font": self.font,
            "figure": self.figure,
            "target": self.target,
            "line": self.line,
        }


NORMAL = Mode("normal", large=False)
LARGE = Mode("大字", large=True, font=18, figure=30, target=60)
ZOOM = Mode("200% text", large=False, text_scale=2.0, overflow_only=True)
CARE = Mode("关怀模式", large=True, text_scale=1.5, font=18, target=60, overflow_only=True)
MODES = (NORMAL, LARGE, ZOOM, CARE)
OVERFLOW_PROBLEMS = ("scrolls sideways", "clips or scrolls", "moves on", "a CAPTCHA", "a state")
MEASURES = ("font", "figure", "line", "contrast", "target", "overflow")
WORST_IS_HIGHEST = {"overflow"}


_sessions: dict = {}


def set_text_scale(page, scale: float) -> None:
    """Emulate text zoom: the browser's default font size at 16 px × `scale`."""
    if page not in _sessions:
        _sessions[page] = page.context.new_cdp_session(page)
    _sessions[page].send(
        "Page.setFontSizes",
        {"fontSizes": {"standard": round(16 * scale), "fixed": round(13 * scale)}},
    )


def set_mode(page, server_url: str, mode: Mode) -> None:
    """Switch the page's context to `mode`: the 大字 cookie (none in the normal mode: a first
    visit, which offers 大字) and the text zoom."""
    context = page.context
    context.clear_cookies(name="large")
    if mode.large:
        context.add_cookies([{"name": "large", "value": "1", "url": server_url}])
    set_text_scale(page, mode.text_scale)


def measure(page, mode: Mode) -> dict:
    """The worst of each measure on the page as it is now, and what misses the numbers."""
    found = page.evaluate(MEASURE, mode.limits())
    if mode.overflow_only:
        found["problems"] = [p for p in found["problems"] if p.startswith(OVERFLOW_PROBLEMS)]
    return found


def is_paper(page) -> bool:
    return page.evaluate(IS_PAPER)


class Worst:
    """The worst value of each measure per mode, with the page where it occurs."""

    def __init__(self):
        self.values: dict[tuple[str, str], tuple[float, str]] = {}

    def add(self, mode: Mode, url: str, worst: dict) -> None:
        for measure, (value, where) in worst.items():
            key = (mode.name, measure)
            known = self.values.get(key)
            higher = measure in WORST_IS_HIGHEST
            if known is None or (value > known[0] if higher else value < known[0]):
                self.values[key] = (value, f"{url} {where}")

    def report(self) -> str:
        units = {
            "font": "px",
            "figure": "px",
            "line": "×",
            "contrast": ":1",
            "target": "px",
            "overflow": "px",
        }
        lines = ["适老化 numbers, the worst case of each measure:"]
        for mode in MODES:
            for measure in MEASURES:
                if mode.overflow_only and measure not in ("font", "overflow"):
                    continue
                if (mode.name, measure) not in self.values:
                    continue
                value, where = self.values[(mode.name, measure)]
                lines.append(f"  {mode.name:10} {measure:9} {value}{units[measure]}  {where}")
        return "\n".join(lines)
