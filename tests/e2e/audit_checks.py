"""What the page audit checks on a page open in Chromium: the layout (no sideways overflow, every
control on screen), unique ids, untranslated French text, and axe-core's WCAG 2.1 A/AA rules."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "e2e" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
FRENCH = ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Texts that are the same in both languages by design, or too short to tell a language by.
SAME_IN_BOTH = {"English", "Français"}
SHORTEST = 4

# One pass over the document, in the page: sideways overflow of the page, controls that are
# displayed but not inside the viewport (nor inside every box that clips them sideways, such as a
# table that scrolls inside its box), and ids used more than once.
LAYOUT = """() => {
  const width = window.innerWidth;
  const problems = [];
  const scroll = document.documentElement.scrollWidth;
  if (scroll > width) problems.push(`the page scrolls sideways: ${scroll}px wide in a ${width}px viewport`);
  const name = (el) => {
    const text = (el.getAttribute('aria-label') || el.innerText || el.value || el.getAttribute('name') || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 40);
    return `<${el.tagName.toLowerCase()}${el.id ? ' id=' + el.id : ''}> "${text}"`;
  };
  const shown = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  // The horizontal range where `el` can be seen: the viewport, narrowed by each ancestor that
  // clips or scrolls its content sideways.
  const visibleRange = (el) => {
    let left = 0, right = width;
    for (let up = el.parentElement; up; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow !== 'visible') {
        const box = up.getBoundingClientRect();
        left = Math.max(left, box.left);
        right = Math.min(right, box.right);
      }
    }
    return [left, right];
  };
  const outside = (el) => {
    const box = el.getBoundingClientRect();
    const [left, right] = visibleRange(el);
    return box.left < left - 1 || box.right > right + 1;
  };
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
  for (const el of document.querySelectorAll(selector)) {
    if (!shown(el) || !outside(el)) continue;
    // A control kept off screen until it has the focus (the skip link) is judged with the focus.
    el.focus({preventScroll: true});
    const still = outside(el);
    el.blur();
    if (still) problems.push(`${name(el)} is outside the visible width`);
  }
  const seen = new Map();
  for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) || 0) + 1);
  for (const [id, count] of seen) if (count > 1) problems.push(`id "${id}" is used ${count} times`);
  return problems;
}"""

# The texts a reader meets on the page: each element's own text and its whole text, the title,
# and the words of controls (labels for screen readers, placeholders, button values). Text in
# another language on purpose (`lang` differs from the page's) is left out.
TEXTS = """() => {
  const page = document.documentElement.lang;
  const texts = new Set([document.title]);
  const clean = (s) => (s || '').replace(/\\s+/g, ' ').trim();
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('[lang]').lang !== page || ['SCRIPT', 'STYLE'].includes(el.tagName)) continue;
    const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(' ');
    texts.add(clean(own));
    if (el.innerText !== undefined && el.children.length && el.innerText.length < 400) texts.add(clean(el.innerText));
    for (const attr of ['aria-label', 'placeholder', 'title', 'alt']) if (el.hasAttribute(attr)) texts.add(clean(el.getAttribute(attr)));
    if (el.tagName === 'INPUT' && ['submit', 'button'].includes(el.type)) texts.add(clean(el.value));
  }
  return [...texts].filter((t) => t);
}"""


@cache
def english_only() -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """The English texts of the catalogue whose French differs: plain ones, and those with
    placeholders as patterns."""
    with FRENCH.open("rb") as fh:
        catalog = read_po(fh, locale="fr")
    plain: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            if english in strings or english in SAME_IN_BOTH:
                continue
            # A text placeholder stands for any text, a number one for digits.
            pieces = re.split(r"(%(?:\(\w+\))?[sd])", " ".join(english.split()))
            literal = pieces[::2]
            if len(pieces) == 1:
                if len(english) >= SHORTEST:
                    plain.add(pieces[0])
            elif sum(len(p.strip()) for p in literal) >= SHORTEST:
                pattern = "".join(re.escape(p) if i % 2 == 0 else (r"\d+" if p.endswith("d") else ".+")
                                  for i, p in enumerate(pieces))
                patterns.append(re.compile(pattern, re.DOTALL))
    return frozenset(plain), tuple(patterns)


def untranslated(texts: list[str]) -> list[str]:
    plain, patterns = english_only()
    found = sorted({t for t in texts if t in plain or any(p.fullmatch(t) for p in patterns)})
    return [f"English text on a French page: {t!r}" for t in found]


def axe_problems(page: Any) -> list[str]:
    """axe-core's WCAG 2.0/2.1 level A and AA violations, with the elements they concern."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS
    )
    problems = []
    for violation in result["violations"]:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        problems.append(f"axe {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return problems


def audit(page: Any, *, french: bool) -> list[str]:
    """Every problem the page has now, as sentences."""
    problems: list[str] = page.evaluate(LAYOUT)
    if french:
        problems += untranslated(page.evaluate(TEXTS))
    problems += axe_problems(page)
    return problems
