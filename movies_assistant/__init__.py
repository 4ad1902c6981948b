"""Movies Assistant: a retrieval-augmented movie question answering service."""

TMDB_ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."
