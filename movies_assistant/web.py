"""`GET /`: the chat page (templates/chat.html, static/chat.js, static/chat.css; no build step).

The page posts questions to `/question/stream` and reads the server-sent events with fetch() and a
ReadableStream (EventSource cannot POST), shows the answer as it streams and the sources as cards,
keeps the conversation id for follow-ups and posts +1/-1 to `/feedback`. Model output is inserted as
text while it streams; the finished answer is the server's `answer_html` (rendering.py: Markdown
rendered and sanitised), whose film links point at the source cards.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from . import TMDB_ATTRIBUTION

chat = Blueprint("chat", __name__, static_folder="static", static_url_path="/chat/static")

EXAMPLES = (
    "Who directed Alien?",
    "Recommend animated movies from the 90s",
    "Compare The Matrix and Inception",
    "What is Finding Nemo about?",
)


@chat.get("/")
def chat_page():
    return render_template("chat.html", attribution=TMDB_ATTRIBUTION, examples=EXAMPLES)
