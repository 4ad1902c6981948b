"""Movies Assistant: a retrieval-augmented movie question answering service."""

__version__ = "1.0.0"

TMDB_ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."
