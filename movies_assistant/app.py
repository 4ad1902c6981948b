"""Flask app factory: `create_app(settings)` wires blueprints, access control, JSON errors and CLI commands."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .config import Settings
from .llm import ModelUnavailable
from .logstore import LogStoreUnavailable, UnknownConversation
from .request_body import BufferedBody
from .search import SearchUnavailable
from .services import Services

MAX_REQUEST_BYTES = 64 * 1024  # larger bodies get 413: before they are read, or as soon as they pass it

log = logging.getLogger(__name__)


class BadRequest(ValueError):
    """Invalid client input; the message (and the per-field `details`) are shown to the client."""

    def __init__(self, message: str, details: list[dict] | None = None):
        super().__init__(message)
        self.details = details


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.wsgi_app = BufferedBody(app.wsgi_app, MAX_REQUEST_BYTES, settings.request_body_timeout)
    app.json.sort_keys = False
    app.extensions["movies_assistant"] = Services(settings)

    from . import access, api, cli, dashboard, metrics, web  # imported here: they import this module

    app.register_blueprint(web.chat)
    app.register_blueprint(api.questions)
    app.register_blueprint(api.search)
    app.register_blueprint(api.health)
    app.register_blueprint(api.docs)
    app.register_blueprint(dashboard.dashboard)
    metrics.register(app)
    access.register(app)
    cli.register(app)
    _register_errors(app)
    return app


def services() -> Services:
    return current_app.extensions["movies_assistant"]


def _error(status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(BadRequest)
    def bad_request(exc):
        return _error(400, str(exc), **({"details": exc.details} if exc.details else {}))

    @app.errorhandler(UnknownConversation)
    def unknown_conversation(exc):
        return _error(404, str(exc))

    @app.errorhandler(SearchUnavailable)
    @app.errorhandler(ModelUnavailable)
    @app.errorhandler(LogStoreUnavailable)
    def unavailable(exc):
        log.warning("service unavailable: %s", exc)
        response, status = _error(503, str(exc))
        if getattr(exc, "retry_after", None):  # e.g. the local model's queue is full
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, status

    @app.errorhandler(HTTPException)
    def http_error(exc):
        response, status = _error(exc.code or 500, exc.description or exc.name)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response, status

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unhandled error")
        return _error(500, "internal error; see the server log")
