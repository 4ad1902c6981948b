"""Which movie text to embed: dense hit rate@10 / MRR of a few recipes, on the TRAIN questions only.

    .venv/bin/python benchmarks/embedding_recipes.py [--others 3000] [--models minilm]

Two question sets, train halves only: the original questions (even movie ids of
data/ground-truth-retrieval.csv) and the plot paraphrases (train split of data/ground-truth-extra.csv).
To keep it to minutes, each recipe embeds the questions' movies plus `--others` random corpus movies
(seed 7), and ranks them by cosine. Prints one line per recipe and question set. `--models` takes
EMBEDDING_MODELS' values; e5 embeds about 13 texts/s here, so `minilm` is the default.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from movies_assistant.embeddings import open_embedder  # noqa: E402
from movies_assistant.movies import ReadReport, read_movies  # noqa: E402

RECIPES = {
    "title-overview": lambda m: ". ".join(p for p in (m.title, m.overview) if p),
    "title-genres-overview": lambda m: ". ".join(p for p in (m.title, ", ".join(m.genres), m.overview) if p),
    "title-year-genres-tagline-overview": lambda m: ". ".join(
        p for p in (f"{m.title} ({m.year})" if m.year else m.title, ", ".join(m.genres), m.tagline, m.overview) if p),
    "title-genres-overview-keywords": lambda m: ". ".join(
        p for p in (m.title, ", ".join(m.genres), m.overview, ", ".join(m.keywords[:10])) if p),
    "title-year-genres-tagline-overview-keywords": lambda m: ". ".join(
        p for p in (f"{m.title} ({m.year})" if m.year else m.title, ", ".join(m.genres), m.tagline, m.overview,
                    ", ".join(m.keywords[:10])) if p),
}


def train_questions() -> dict[str, list[dict]]:
    """The train half of each question set, as rows with `id` and `question`."""
    with open(ROOT / "data" / "ground-truth-retrieval.csv", newline="", encoding="utf-8") as f:
        original = [r for r in csv.DictReader(f) if int(r["id"]) % 2 == 0]
    with open(ROOT / "data" / "ground-truth-extra.csv", newline="", encoding="utf-8") as f:
        paraphrase = [r for r in csv.DictReader(f) if r["type"] == "paraphrase" and r["split"] == "train"]
    return {"original": original, "paraphrase": paraphrase}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=3000)
    parser.add_argument("--models", default="minilm", help="EMBEDDING_MODELS to compare the recipes with")
    args = parser.parse_args()
    sets = train_questions()
    gold = {int(r["id"]) for rows in sets.values() for r in rows}
    movies = [m for chunk in read_movies(ROOT / "data" / "movies-corpus.csv.gz", ReadReport(), 5000) for m in chunk]
    others = [m for m in movies if m.id not in gold]
    chosen = [m for m in movies if m.id in gold] + random.Random(7).sample(others, args.others)
    ids = np.array([m.id for m in chosen])
    embedder = open_embedder(args.models)
    questions = {name: np.stack([embedder.embed_query(r["question"]) for r in rows]) for name, rows in sets.items()}
    print(", ".join(f"{len(rows)} {name} train questions" for name, rows in sets.items())
          + f"; {len(chosen)} movies ({len(gold)} gold)")
    for name, recipe in RECIPES.items():
        started = time.perf_counter()
        vectors = embedder.embed([recipe(m) for m in chosen])
        for set_name, rows in sets.items():
            ranked = ids[np.argsort(-(questions[set_name] @ vectors.T), axis=1)[:, :10]]
            hits = mrr = 0.0
            for row, top in zip(rows, ranked):
                where = np.flatnonzero(top == int(row["id"]))
                if where.size:
                    hits += 1
                    mrr += 1 / (where[0] + 1)
            print(f"{name:<44} {set_name:<10} hit rate@10 {hits / len(rows):.3f}  MRR {mrr / len(rows):.3f}  "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
