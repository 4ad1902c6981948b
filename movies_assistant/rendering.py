"""An answer as safe HTML for the chat page: its Markdown rendered, the films it names linked to their cards.

Answers are untrusted (a model writes them), so the Markdown is rendered by markdown-it-py with raw
HTML off (tags show as text, `javascript:` links are refused) and the result is sanitised by nh3,
which keeps only the tags and attributes a chat answer needs. The plain `answer` text stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

TAGS = {"p", "br", "ul", "ol", "li", "em", "strong", "code", "pre", "blockquote", "a"}
ATTRIBUTES = {"a": {"href", "class"}, "ol": {"start"}}
LINK_CLASS = "film-link"
LIST_ITEM = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])(?:\s|$)")

# CommonMark, single newlines kept as line breaks (answers are written as lines), no headings or
# images: a "#" line or "![...](...)" in an answer stays text, and nothing is loaded from elsewhere.
MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable(["heading", "lheading", "image"])


def card_anchor(answer_id: str, film_id) -> str:
    """The element id of a film's source card under an answer (chat.js gives its cards the same)."""
    return f"film-{answer_id}-{film_id}"


def render(text: str, films: Iterable[dict] = (), answer_id: str = "") -> str:
    """`text` as sanitised HTML; the first mention of each of `films` (id, title, year) links to its card."""
    tokens = MARKDOWN.parse(separate_lists(text))
    link_films(tokens, list(films), answer_id)
    html = MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https"})


def separate_lists(text: str) -> str:
    """A blank line where a list starts after a line of text or ends before one.

    Answers write "Intro:" and "- item" lines straight after each other and a closing sentence
    right after the last item; without the blank line Markdown would fold that sentence into the item.
    """
    out: list[str] = []
    in_list = False
    for line in text.replace("\r\n", "\n").split("\n"):
        item = LIST_ITEM.match(line) is not None
        if not line.strip():
            in_list = False
        elif item and not in_list:
            if out and out[-1].strip():
                out.append("")
            in_list = True
        elif in_list and not item and not line.startswith((" ", "\t")):
            out.append("")
            in_list = False
        out.append(line)
    return "\n".join(out)


def link_films(tokens: list[Token], films: list[dict], answer_id: str) -> None:
    """Turn each film's first mention in the text (outside links and code) into a link to its card.

    A mention is the title as written, whole words, with its year in brackets when the answer gives
    one (which tells remakes apart); a one-word title counts only with its year, since words like
    "Up" or "Her" are ordinary words too.
    """
    pattern, targets = _mentions(films)
    if pattern is None:
        return
    linked: set = set()
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        children, depth = [], 0
        for token in block.children:
            depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type != "text" or depth:
                children.append(token)
                continue
            children.extend(_split(token.content, pattern, targets, linked, answer_id))
        block.children = children


def _mentions(films: list[dict]) -> tuple[re.Pattern | None, list]:
    """One pattern with a group per way of naming a film (longest first) and the film each group means."""
    names: list[tuple[str, str, object]] = []  # (title, regex, film id)
    bare: set[str] = set()
    for film in films:
        title = (film.get("title") or "").strip()
        if not title:
            continue
        body = r"\s+".join(re.escape(word) for word in title.split())
        if film.get("year"):
            names.append((title + " (0000)", rf"{body}\s*\({film['year']}\)", film["id"]))
        if len(title.split()) > 1 and title not in bare:  # the first film of that title, when no year is given
            bare.add(title)
            names.append((title, body, film["id"]))
    if not names:
        return None, []
    names.sort(key=lambda n: len(n[0]), reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(f"({regex})" for _, regex, _ in names) + r")(?!\w)")
    return pattern, [film_id for _, _, film_id in names]


def _split(text: str, pattern: re.Pattern, targets: list, linked: set, answer_id: str) -> list[Token]:
    """A text token as text and link tokens, linking each film not linked yet."""
    out, start = [], 0
    for match in pattern.finditer(text):
        film_id = targets[match.lastindex - 1]
        if film_id in linked:
            continue
        linked.add(film_id)
        if match.start() > start:
            out.append(_text(text[start:match.start()]))
        link = Token("link_open", "a", 1)
        link.attrs = {"href": "#" + card_anchor(answer_id, film_id), "class": LINK_CLASS}
        out += [link, _text(match.group()), Token("link_close", "a", -1)]
        start = match.end()
    if start < len(text):
        out.append(_text(text[start:]))
    return out


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token
