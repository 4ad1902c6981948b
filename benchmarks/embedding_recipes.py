"""Which movie text to embed: dense hit rate@10 / MRR of a few recipes, on the TRAIN questions only.

    .venv/bin/python benchmarks/embedding_recipes.py [--others 3000]

The train questions are those of even movie ids in data/ground-truth-retrieval.csv (the odd half is
held out). To keep it to minutes, each recipe embeds the train questions' movies plus `--others`
random corpus movies (seed 7), and ranks them by cosine. Prints one line per recipe.
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

from movies_assistant.embeddings import Embedder  # noqa: E402
from movies_assistant.movies import ReadReport, read_movies  # noqa: E402

RECIPES = {
    "title-overview": lambda m: ". ".join(p for p in (m.title, m.overview) if p),
    "title-genres-overview": lambda m: ". ".join(p for p in (m.title, ", ".join(m.genres), m.overview) if p),
    "title-year-genres-tagline-overview": lambda m: ". ".join(
        p for p in (f"{m.title} ({m.year})" if m.year else m.title, ", ".join(m.genres), m.tagline, m.overview) if p),
    "title-genres-overview-keywords": lambda m: ". ".join(
        p for p in (m.title, ", ".join(m.genres), m.overview, ", ".join(m.keywords[:10])) if p),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=3000)
    args = parser.parse_args()
    rows = [r for r in csv.DictReader(open(ROOT / "data" / "ground-truth-retrieval.csv")) if int(r["id"]) % 2 == 0]
    gold = {int(r["id"]) for r in rows}
    movies = [m for chunk in read_movies(ROOT / "data" / "movies-corpus.csv.gz", ReadReport(), 5000) for m in chunk]
    others = [m for m in movies if m.id not in gold]
    chosen = [m for m in movies if m.id in gold] + random.Random(7).sample(others, args.others)
    ids = np.array([m.id for m in chosen])
    embedder = Embedder()
    questions = embedder.embed([r["question"] for r in rows])
    print(f"{len(rows)} train questions, {len(chosen)} movies ({len(gold)} gold)")
    for name, recipe in RECIPES.items():
        started = time.perf_counter()
        vectors = embedder.embed([recipe(m) for m in chosen])
        ranked = ids[np.argsort(-(questions @ vectors.T), axis=1)[:, :10]]
        hits = mrr = 0.0
        for row, top in zip(rows, ranked):
            where = np.flatnonzero(top == int(row["id"]))
            if where.size:
                hits += 1
                mrr += 1 / (where[0] + 1)
        print(f"{name:<36} hit rate@10 {hits / len(rows):.3f}  MRR {mrr / len(rows):.3f}  "
              f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
