"""What a rendered page says in the wrong language (used by tests/test_translation_complete.py).

A page is read as a person reads it: the text between tags and the attributes that show (title,
placeholder, alt, aria-label, a button's value), and, inside scripts, the JavaScript string literals
(a folium map's layer names, legend and popups live there; popups are HTML again and read the same
way). An element marked with its own ``lang`` (the language menu's "English"/"中文") says what it
says in that language and is skipped.

- On an English page, any Chinese character (CJK ideographs and full-width punctuation) outside the
  data that the test put in the database is a string left untranslated.
- On a Chinese page, a fragment that is the English source text (msgid) of a catalogue entry, or an
  English phrase of two words or more, is a string whose translation is missing, fuzzy, or that
  was never marked for translation.
"""

from __future__ import annotations

import gettext
import json
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e]")
SHOWN_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label", "label"}
JS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"' + r"|'(?:[^'\\\n]|\\.)*'" + r"|`(?:[^`\\]|\\.)*`")
# an English phrase: two words of letters, separated by a space (code, ids and URLs rarely are)
PHRASE = re.compile(r"\b[A-Za-z][a-z]+(?:'[a-z]+)? (?:[A-Za-z][a-z]*[ ,.;:!?]*)+")
MO = Path(__file__).resolve().parent.parent / "gridmap/locale/zh_Hans/LC_MESSAGES/django.mo"


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.scripts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, foreign language)
        self._in: str | None = None

    def _foreign(self) -> bool:
        return any(foreign for _, foreign in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        foreign = "lang" in values and tag != "html"
        if tag not in VOID:
            self._stack.append((tag, foreign))
        if tag in ("script", "style"):
            self._in = tag
        if foreign or self._foreign():
            return
        for name, value in attrs:
            if value and (
                name in SHOWN_ATTRIBUTES
                or (name == "value" and values.get("type") in ("submit", "button", "reset"))
            ):
                self.texts.append(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._stack and self._stack[-1][0] == tag:
            self._stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in = None
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in is None and not self._foreign() and data.strip():
            self.texts.append(data)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def shown_texts(html: str, depth: int = 0) -> Iterator[tuple[str, bool]]:
    """Every fragment of text a reader of ``html`` may see, scripts' string literals included, each
    with True when it is a bare script literal (which may as well be code: an event or field name)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    yield from ((t.strip(), False) for t in reader.texts)
    for script in reader.scripts:
        for literal in JS_STRING.findall(script):
            text = _js_string(literal)
            if not text.strip():
                continue
            if depth < 3 and "<" in text and ">" in text:
                yield from shown_texts(text, depth + 1)
            else:
                yield text.strip(), True


def _js_string(literal: str) -> str:
    body = literal[1:-1]
    if literal[0] != '"':
        body = body.replace('\\"', '"').replace('"', '\\"').replace("\\'", "'")
    try:
        return json.loads(f'"{body}"')
    except ValueError:
        return body


def without(text: str, data: Iterable[str]) -> str:
    for value in data:  # longest first, so a name is not cut by a shorter one inside it
        if value in text:
            text = text.replace(value, " ")
    return text


def chinese_left(texts: Iterable[tuple[str, bool]], data: list[str]) -> set[str]:
    """Fragments of an English page that still hold Chinese once the data is taken out."""
    return {t for t, _ in texts if CJK.search(t) and CJK.search(without(t, data))}


def catalogue(path: Path = MO, *, contexts: bool = False) -> dict[str, str]:
    """{msgid: msgstr} of the compiled Chinese catalogue (what the pages use: msgfmt leaves out
    fuzzy and untranslated entries); a msgid loses its context unless ``contexts`` (then
    "context\\x04msgid"), plurals give their singular."""
    with path.open("rb") as f:
        raw = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    found = {}
    for key, value in raw.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if msgid:
            found[msgid if contexts else msgid.split("\x04")[-1]] = value
    return found


def english_left(
    texts: Iterable[tuple[str, bool]], data: list[str], msgids: Iterable[str], allowed: set[str]
) -> set[str]:
    """Fragments of a Chinese page that are (or hold) English UI text once the data is taken out:
    a msgid of the catalogue as it is, or an English phrase. A bare script literal counts only
    when it reads as a sentence (a msgid of several words, or a phrase starting with a capital):
    "name" or "zoomend moveend" there are code."""
    sources = {m for m in msgids if re.search(r"[A-Za-z]{2}", m) and m not in allowed}
    found = set()
    for text, literal in texts:
        rest = without(text, data).strip()
        if not re.search(r"[A-Za-z]{2}", rest):
            continue
        phrases = [p.strip(" ,.;:!?") for p in PHRASE.findall(rest)]
        phrases = [p for p in phrases if p not in allowed and not (literal and p[0].islower())]
        if (rest in sources and not (literal and " " not in rest)) or phrases:
            found.add(text)
    return found
