"""rendering.py: an answer's Markdown as sanitised HTML, with the films it names linked to their cards."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from movies_assistant.rendering import card_anchor, render

ALIEN = {"id": 348, "title": "Alien", "year": 1979}
ALIENS = {"id": 679, "title": "Aliens", "year": 1986}
STAR_WARS = {"id": 11, "title": "Star Wars", "year": 1977}
DUNE_1984 = {"id": 841, "title": "Dune", "year": 1984}
DUNE_2021 = {"id": 438631, "title": "Dune", "year": 2021}
HER = {"id": 152601, "title": "Her", "year": 2013}


class Elements(HTMLParser):
    """Every start tag as (tag, attributes), and the text, of an HTML fragment."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data

    def named(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def links(html: str) -> list[str]:
    return [a["href"] for a in Elements(html).named("a")]


def test_composer_lists_render_as_lists_and_the_closing_line_stays_outside():
    text = ("Comparison:\n- Alien (1979): Horror, Science Fiction; rated 7.9/10\n- Aliens (1986): Action\n"
            "Alien (1979) has the higher audience rating; Aliens (1986) has the most votes.")
    html = render(text)
    assert html.count("<li>") == 2 and "<ul>" in html
    assert html.startswith("<p>Comparison:</p>")
    last_item = html[html.rindex("<li>"):html.index("</ul>")]
    assert "higher audience rating" not in last_item  # not folded into the last item
    assert html.rstrip().endswith("has the most votes.</p>")


def test_a_list_after_a_blank_line_or_at_the_start_is_one_list():
    assert render("- one\n- two").count("<li>") == 2
    assert render("Picks:\n\n* one\n* two\n\nEnjoy.").count("<li>") == 2
    assert "<ol>" in render("Steps:\n1. first\n2. second")


def test_emphasis_paragraphs_and_line_breaks():
    html = render("**Alien** is *tense*.\nIt is a classic.\n\nSecond paragraph.")
    assert "<strong>Alien</strong>" in html and "<em>tense</em>" in html
    assert html.count("<p>") == 2 and "<br>" in html


def test_the_films_named_link_to_their_cards_once():
    html = render("Alien (1979) was followed by Aliens (1986). Alien (1979) is scarier.", [ALIEN, ALIENS], "a1")
    assert links(html) == ["#" + card_anchor("a1", 348), "#" + card_anchor("a1", 679)]
    assert card_anchor("a1", 348) == "film-a1-348"
    assert '<a href="#film-a1-348" class="film-link"' in html and ">Alien (1979)</a>" in html
    assert Elements(html).text.strip() == "Alien (1979) was followed by Aliens (1986). Alien (1979) is scarier."


def test_the_year_tells_remakes_apart_and_a_bare_title_needs_several_words():
    assert links(render("Dune (2021) remakes Dune (1984).", [DUNE_1984, DUNE_2021], "a")) == [
        "#film-a-438631", "#film-a-841"]
    assert links(render("Star Wars changed everything.", [STAR_WARS], "a")) == ["#film-a-11"]
    assert links(render("Her performance in Dune was fine.", [HER, DUNE_1984], "a")) == []  # ordinary words
    assert links(render("Her (2013) is gentle.", [HER], "a")) == ["#film-a-152601"]
    assert links(render("Star Warship (1977) and Star Warsaw", [STAR_WARS], "a")) == []  # whole words only


def test_titles_in_links_and_code_are_left_alone():
    html = render("See [Alien (1979)](https://www.themoviedb.org/movie/348) or `Alien (1979)`.", [ALIEN], "a")
    assert links(html) == ["https://www.themoviedb.org/movie/348"]
    assert "<code>Alien (1979)</code>" in html


@pytest.mark.parametrize("hostile", [
    "<script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=1">',
    "[click](javascript:window.pwned=1)",
    "[click](JaVaScRiPt:window.pwned=1)",
    "[click](data:text/html,<script>window.pwned=1</script>)",
    "[click](vbscript:msgbox)",
    '<a href="javascript:window.pwned=1">click</a>',
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(javascript:1)" onclick="window.pwned=1">x</div>',
    "![x](https://evil.example/pixel.png)",
    "<svg onload=window.pwned=1>",
    "[x](https://e.example \"title\" onmouseover=\"window.pwned=1\")",
])
def test_hostile_answers_render_inert(hostile):
    html = render(f"Alien (1979) {hostile} done", [ALIEN], "a")
    parsed = Elements(html)
    assert {tag for tag, _ in parsed.tags} <= {"p", "a", "br"}
    for tag, attrs in parsed.tags:
        assert set(attrs) <= {"href", "class", "rel"}, (tag, attrs)
        assert not attrs.get("href") or attrs["href"].startswith(("#film-a-", "https://")), attrs
    assert "javascript:" not in " ".join(links(html)).lower()


def test_hostile_film_titles_are_text():
    film = {"id": 7, "title": '"><script>x()</script>', "year": 2000}
    html = render('"><script>x()</script> (2000) is odd', [film], "a")
    assert "<script" not in html and Elements(html).named("a") == [{"href": "#film-a-7", "class": "film-link",
                                                                   "rel": "noopener noreferrer"}]


def test_raw_html_shows_as_the_text_it_was():
    text = 'Star Wars (1977) <img src=x onerror="alert(1)"> <b>bold</b>'
    assert Elements(render(text)).text.strip() == text
