"""The evaluate command and its scoring: ground-truth files of both formats, per-type numbers, constraint
satisfaction measured on the app's own retrieval (parsed filters), the baseline beside every method, and
clear errors for bad files, methods and backends."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from movies_assistant.app import create_app
from movies_assistant.config import DEFAULT_GROUND_TRUTH
from movies_assistant.evaluate import (APP_METHODS, BASELINE, evaluate, load_ground_truth, markdown_table,
                                       retriever, table_rows, Run)
from movies_assistant.search import Filters

FIXTURE = Path(__file__).parent / "ground-truth-fixture.csv"


def run_json(runner, *args) -> dict:
    result = runner.invoke(args=["evaluate", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_original_file_is_typed_original_and_split_by_movie_id_parity():
    questions = load_ground_truth(DEFAULT_GROUND_TRUTH)
    assert len(questions) == 1000 and {q.type for q in questions} == {"original"}
    assert all(q.constraints is None for q in questions)
    train = [q for q in questions if q.split == "train"]
    assert len(train) == 585 and all(q.gold_id % 2 == 0 for q in train)  # the tuning half the README names


def test_the_extended_format_has_types_splits_and_constraints_as_filters():
    questions = load_ground_truth(FIXTURE)
    assert [q.type for q in questions] == ["paraphrase", "paraphrase", "person", "filmography", "constraint",
                                           "constraint"]
    assert [q.split for q in questions] == ["test", "train", "test", "test", "test", "train"]
    assert questions[4].gold_id is None
    assert questions[4].constraints == Filters(genres=["Animation"], year_min=2000, year_max=2009)
    assert questions[0].constraints is None and questions[2].constraints == Filters(person="Tom Hanks")


@pytest.mark.parametrize("row, message", [
    ("x1,Some question,paraphrase,test,", "id must be a TMDB id"),
    (",A question with nothing to check,constraint,test,", "needs an id, constraints or both"),
    ('12,Fish,paraphrase,test,"{not json}"', "constraints are not JSON"),
    ('12,Fish,paraphrase,test,"{""decade"": 1990}"', "unknown constraint(s) decade"),
    ('12,Fish,paraphrase,test,"{""genres"": ""Animation""}"', "genres must be a list"),
    ('12,Fish,paraphrase,test,"[1990]"', "constraints must be a JSON object"),
    ("12,Fish,paraphrase,validation,", "split must be one of train, test"),
])
def test_a_bad_row_is_a_clear_error_naming_its_line(tmp_path, runner, row, message):
    path = tmp_path / "gt.csv"
    path.write_text("id,question,type,split,constraints\n13,Forrest Gump,original,test,\n" + row + "\n")
    with pytest.raises(ValueError, match=r"line 3: .*" + message.split("(")[0]):
        load_ground_truth(path)
    result = runner.invoke(args=["evaluate", "--ground-truth", str(path)])
    assert result.exit_code == 1 and "line 3" in result.output and "Traceback" not in result.output


def test_a_file_without_the_columns_or_missing_is_a_clear_error(tmp_path, runner):
    path = tmp_path / "gt.csv"
    path.write_text("movie,query\n13,Forrest Gump\n")
    result = runner.invoke(args=["evaluate", "--ground-truth", str(path)])
    assert result.exit_code == 1 and "expected a CSV with columns id,question" in result.output
    result = runner.invoke(args=["evaluate", "--ground-truth", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1 and "cannot read" in result.output


def test_scores_per_type_and_constraint_satisfaction_on_the_sample(sample_store):
    questions = load_ground_truth(FIXTURE)
    scores = evaluate(sample_store, questions, k=10, method="lexical")
    assert scores.questions == 6 and scores.ranked == 4 and scores.constrained == 4
    assert len(scores.latencies) == 6 and scores.percentile_ms(0.95) > 0
    # the counts agree with the ranks of the retrieval itself
    retrieve = retriever(sample_store, "lexical", 10)
    ranks = {q.text: [m.id for m in retrieve(q)] for q in questions}
    for kind, sub in scores.by_type.items():
        ranked = [q for q in questions if q.type == kind and q.gold_id is not None]
        found = [ranks[q.text].index(q.gold_id) + 1 for q in ranked if q.gold_id in ranks[q.text]]
        assert (sub.ranked, sub.hits) == (len(ranked), len(found))
        assert sub.reciprocal_rank == pytest.approx(sum(1 / r for r in found))
    assert ranks["hobbits set out to destroy a ring of power"][0] == 120
    # the app parses "Animated movies from the 2000s" into filters: every result satisfies them
    constraint = scores.by_type["constraint"]
    assert constraint.results_checked == 20 and constraint.constraint_satisfaction == 1.0
    assert constraint.ranked == 0 and constraint.hit_rate == 0.0


def test_constraints_are_measured_on_the_apps_retrieval_not_a_plain_search(sample_store):
    """The same question searched as typed (no understanding) returns films outside the constraints."""
    question = next(q for q in load_ground_truth(FIXTURE) if q.text.startswith("Animated"))
    plain = [h.movie for h in sample_store.search(question.text, k=10)]
    assert sum(question.constraints.accepts(m) for m in plain) < 10
    app = retriever(sample_store, "lexical", 10)(question)
    assert len(app) == 10 and all(question.constraints.accepts(m) for m in app)


def test_the_command_reports_every_type_split_and_a_markdown_table(runner, tmp_path):
    out = tmp_path / "table.md"
    report = run_json(runner, "--ground-truth", str(FIXTURE), "--output", str(out))
    lexical = [r for r in report["rows"] if r["method"] == "lexical"]
    assert [r["type"] for r in lexical] == ["all", "constraint", "filmography", "paraphrase", "person"]
    assert lexical[0]["backend"] == "local" and lexical[0]["questions"] == 6 and lexical[0]["ranked"] == 4
    assert lexical[1]["constraint_satisfaction"] == 1.0 and lexical[1]["ranked"] == 0
    table = out.read_text()
    assert "| local | lexical | constraint | 2 | - | - |" in table and "100.0%" in table

    test_only = run_json(runner, "--ground-truth", str(FIXTURE), "--split", "test")
    assert next(r for r in test_only["rows"] if r["method"] == "lexical")["questions"] == 4


def test_the_human_table_shows_methods_and_latency(runner):
    result = runner.invoke(args=["evaluate", "--ground-truth", str(FIXTURE), "-k", "5"])
    assert result.exit_code == 0, result.output
    assert "hit rate@5" in result.stdout and "p95 ms" in result.stdout and "lexical" in result.stdout
    assert "paraphrase" in result.stdout


def test_the_baseline_runs_beside_every_method(runner):
    report = run_json(runner, "--ground-truth", str(FIXTURE))
    assert {r["method"] for r in report["rows"]} == {BASELINE, *APP_METHODS}
    assert all(r["vs_baseline"] is not None for r in report["rows"] if r["method"] != BASELINE)


@pytest.mark.parametrize("method", APP_METHODS)
def test_each_method_runs_beside_the_baseline(runner, method):
    result = runner.invoke(args=["evaluate", "--ground-truth", str(FIXTURE), "--method", method, "--json"])
    assert result.exit_code == 0, result.output
    assert {r["method"] for r in json.loads(result.stdout)["rows"]} == {BASELINE, method}


def test_an_unknown_method_is_refused_clearly(runner):
    result = runner.invoke(args=["evaluate", "--ground-truth", str(FIXTURE), "--method", "semantic"])
    assert result.exit_code == 2 and "semantic" in result.output


def test_ratios_are_relative_to_the_same_backends_baseline():
    from movies_assistant.evaluate import Scores, Question

    def scores(hits: int) -> Scores:
        s = Scores()
        for i in range(4):
            s.add(Question("q", 1, "original", "test", None), [1] if i < hits else [], 0, 0.001)
        return s

    rows = table_rows([Run("local", BASELINE, scores(2)), Run("local", "lexical", scores(3)),
                       Run("elasticsearch", BASELINE, scores(1)), Run("elasticsearch", "lexical", scores(3))])
    assert [r["vs_baseline"] for r in rows] == [None, {"hit_rate": 1.5, "mrr": 1.5}, None,
                                                {"hit_rate": 3.0, "mrr": 3.0}]
    assert "| local | lexical | all | 4 | 0.750 | 0.750 | 1.50x / 1.50x | - |" in markdown_table(rows, 10)


def test_a_backend_without_an_index_is_a_clear_error(settings, tmp_path):
    app = create_app(dataclasses.replace(settings, index_dir=tmp_path / "no-index"))
    result = app.test_cli_runner().invoke(args=["evaluate", "--ground-truth", str(FIXTURE)])
    assert result.exit_code == 1 and "no local index yet" in result.output


def test_both_backends_in_one_run(settings, elastic_url):
    import uuid

    from rich.console import Console

    from movies_assistant.ingest import ingest
    from movies_assistant.search.elastic import ElasticStore

    from .conftest import SAMPLE

    store = ElasticStore(elastic_url, f"ma-test-eval-{uuid.uuid4().hex[:10]}")
    try:
        ingest(SAMPLE, store, Console(quiet=True))
        app = create_app(dataclasses.replace(settings, elastic_url=elastic_url, index_name=store.alias))
        report = run_json(app.test_cli_runner(), "--ground-truth", str(FIXTURE), "--backend", "local",
                          "--backend", "elasticsearch", "--method", "lexical")
    finally:
        store.drop()
        store.close()
    overall = {r["backend"]: r for r in report["rows"] if r["method"] == "lexical" and r["type"] == "all"}
    assert set(overall) == {"local", "elasticsearch"}
    assert overall["elasticsearch"]["questions"] == 6 and overall["elasticsearch"]["hit_rate"] >= 0.5
    constraint = next(r for r in report["rows"]
                      if r["backend"] == "elasticsearch" and r["method"] == "lexical" and r["type"] == "constraint")
    assert constraint["constraint_satisfaction"] == 1.0


def test_an_unwritable_output_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["evaluate", "--ground-truth", str(FIXTURE), "--output", str(tmp_path / "no" / "t.md")])
    assert result.exit_code == 1 and "cannot write" in result.output and "Traceback" not in result.output


def test_a_default_method_the_store_cannot_serve_is_left_out_with_a_note(sample_store):
    """The sample store here has no embedding model, so it cannot run dense search: a default run leaves
    dense out and says why; asking for dense by name is an error."""
    from movies_assistant.evaluate import evaluate_all
    from movies_assistant.search import SearchUnavailable

    questions = load_ground_truth(FIXTURE)
    runs, notes = evaluate_all({"local": sample_store}, questions)
    assert "dense" not in {r.method for r in runs} and {"lexical", BASELINE} <= {r.method for r in runs}
    assert any(n.startswith("local dense: left out") for n in notes)
    with pytest.raises(SearchUnavailable):
        evaluate_all({"local": sample_store}, questions, methods=("dense",))
