"""The search-store contract. Every backend must pass this same suite (add it to BACKENDS)."""

from __future__ import annotations

import uuid

import pytest
from rich.console import Console

from movies_assistant.embeddings import open_embedder
from movies_assistant.ingest import ingest, index_vectors
from movies_assistant.movies import Movie, ReadReport, read_movies
from movies_assistant.search import METHODS, Filters, SearchUnavailable, VectorsMissing
from movies_assistant.search.local import LocalStore
from movies_assistant.config import DEFAULT_VECTORS
from movies_assistant.vectors import ShippedVectors, VectorCache, movie_vectors

from .conftest import SAMPLE

BACKENDS = ["local", "elasticsearch"]


def make_store(kind: str, tmp_path, request):
    """A new, empty store of `kind`, with the embedding model; Elasticsearch ones get a unique index
    name, dropped after use.

    Elasticsearch needs TEST_ELASTIC_URL (see the `elastic_url` fixture): skipped without it.
    """
    embedder = request.getfixturevalue("embedder")
    if kind == "local":
        return LocalStore(tmp_path / "index", embedder=embedder)
    if kind == "elasticsearch":
        from movies_assistant.search.elastic import ElasticStore

        store = ElasticStore(request.getfixturevalue("elastic_url"), f"ma-test-{uuid.uuid4().hex[:12]}",
                             embedder=embedder)

        def drop():
            store.drop()
            store.close()

        request.addfinalizer(drop)
        return store
    raise ValueError(kind)


@pytest.fixture(scope="module", params=BACKENDS)
def store(request, tmp_path_factory, shipped_vectors):
    """A backend holding the 1,000-movie sample and its vectors (read-only tests)."""
    folder = tmp_path_factory.mktemp(request.param)
    s = make_store(request.param, folder, request)
    ingest(SAMPLE, s, Console(quiet=True))
    cache = VectorCache(folder / "cache.sqlite3", s.embedder.model_id)
    summary = index_vectors(SAMPLE, s, s.embedder, cache, shipped_vectors, Console(quiet=True))
    assert summary.written == 1000 and summary.embedded == 0  # all from the shipped file
    return s


@pytest.fixture(params=BACKENDS)
def empty_store(request, tmp_path):
    return make_store(request.param, tmp_path, request)


def titles(hits):
    return [h.movie.title for h in hits]


def test_count_and_exists(store):
    assert store.exists() and store.count() == 1000


@pytest.mark.parametrize("query, expected", [
    ("The Matrix", "The Matrix"),
    ("Finding Nemo", "Finding Nemo"),
    ("Who directed Inception?", "Inception"),
    ("What is the budget of Avatar?", "Avatar"),
    ("clownfish taken to a dentist's aquarium", "Finding Nemo"),
])
def test_finds_the_film_first(store, query, expected):
    assert titles(store.search(query, k=5))[0] == expected


@pytest.mark.parametrize("query, expected", [
    ("a teenage girl moves to a rainy town in Washington and falls in love with a vampire classmate",
     "Twilight"),  # not "Mean Girls"
    ("a secretary who stole money from her employer stops at a lonely motel run by a young man devoted to "
     "his mother", "Psycho"),  # not "The Man from Snowy River"
    ("on July 4th humanity fights back against giant alien spaceships hovering over the major cities",
     "Independence Day"),  # not "Jack the Giant Slayer"
])
def test_lexical_ranks_the_told_plot_over_a_title_word(store, query, expected):
    """A plot word that is rare among titles ("girls", "man", "giant") counts as the common plot word
    it also is (blended IDF), so the film whose overview tells the plot comes first."""
    assert titles(store.search(query, k=3, method="lexical"))[0] == expected


def test_exact_title_beats_longer_titles(store):
    assert titles(store.search("Alien", k=3))[0] == "Alien"


def test_results_carry_records_and_scores(store):
    hit = store.search("Star Wars", k=1)[0]
    data = hit.to_dict()
    for key in ("id", "title", "year", "genres", "original_language", "vote_average", "cast", "directors", "score"):
        assert key in data
    assert data["id"] == 11 and data["year"] == 1977 and data["directors"] == ["George Lucas"]


@pytest.mark.parametrize("filters", [
    Filters(year_min=1990, year_max=1999),
    Filters(genres=["Animation"]),
    Filters(genres=["Comedy", "Romance"]),
    Filters(language="fr"),
    Filters(min_rating=8.0),
    Filters(min_votes=5000),
    Filters(runtime_max=90),
    Filters(runtime_min=150),
    Filters(person="Tom Hanks"),
    Filters(year_min=2000, genres=["Science Fiction"], min_rating=7.0),
    Filters(exclude_genres=["Drama"]),
    Filters(genres=["Comedy"], exclude_genres=["Romance", "Family"]),
    Filters(min_rating=7.0, min_votes=100, max_votes=3000),
])
@pytest.mark.parametrize("text", ["", "love", "war"])
def test_filters_are_index_filters(store, filters, text):
    hits = store.search(text, filters, k=50)
    assert all(filters.accepts(h.movie) for h in hits), [h.movie.label() for h in hits if not filters.accepts(h.movie)]
    if not text:  # with no text every accepted movie is a candidate, so there must be some
        assert hits


def test_excluded_genres_and_a_vote_ceiling_narrow_what_they_would_otherwise_find(store):
    """ "No romance" drops the love stories a plain search finds; a vote ceiling drops the blockbusters."""
    plain = store.search("love", k=50)
    assert any("Romance" in h.movie.genres for h in plain)
    assert not any("Romance" in h.movie.genres for h in store.search("love", Filters(exclude_genres=["Romance"]), k=50))
    popular = store.search("", k=1)[0].movie
    ceiling = Filters(max_votes=popular.vote_count - 1)
    assert popular.id not in {h.movie.id for h in store.search("", ceiling, k=50)}


def test_person_filter_ignores_case_and_accents(store):
    exact = {h.movie.id for h in store.search("", Filters(person="Penélope Cruz"), k=100)}
    plain = {h.movie.id for h in store.search("", Filters(person="penelope cruz"), k=100)}
    assert exact and exact == plain


def test_empty_text_ranks_by_popularity(store):
    votes = [h.movie.vote_count for h in store.search("", Filters(genres=["Drama"]), k=20)]
    assert votes == sorted(votes, reverse=True)


def test_query_syntax_is_plain_text(store):
    for nasty in ['title:"', "AND OR NOT", "(((", "a* ~2 ^3", "-", "'; DROP TABLE movies; --", "🎬"]:
        store.search(nasty, k=3)  # must not raise


def test_get_keeps_order_and_skips_unknown(store):
    assert [m.id for m in store.get([12, 999999999, 11])] == [12, 11]
    assert store.get([]) == []


def test_known_people(store):
    assert store.known_people(["Harrison Ford", "harrison ford", "Nobody Atall"]) == ["Harrison Ford", "harrison ford"]


def test_upsert_is_idempotent_and_replaces(empty_store):
    empty_store.rebuild([[Movie(id=1, title="First Title", genres=["Drama"])]])
    empty_store.upsert([Movie(id=1, title="Second Title", genres=["Drama"]), Movie(id=2, title="Other")])
    empty_store.upsert([Movie(id=1, title="Second Title", genres=["Drama"])])
    assert empty_store.count() == 2
    assert titles(empty_store.search("Second Title", k=5))[0] == "Second Title"
    assert empty_store.search("First", k=5) == []
    empty_store.delete([2])
    assert empty_store.count() == 1 and empty_store.get([2]) == []


def test_a_bare_title_prefers_the_namesake_whose_other_fields_name_it_too(empty_store):
    """Among films of the same title, the one whose overview also names it wins over a more popular
    namesake: every field a word is in adds to its score, not only its best one."""
    empty_store.rebuild([[
        Movie(id=1, title="Finding Nemo", vote_count=300, overview="A clownfish crosses the ocean to find Nemo, his son."),
        Movie(id=2, title="Finding Nemo", vote_count=900, overview="A stage play about a lighthouse keeper."),
    ] + [Movie(id=10 + i, title=f"Other {i}", overview="A fish and a son in the ocean.") for i in range(20)]])
    assert [h.movie.id for h in empty_store.search("Finding Nemo", k=2, method="lexical")] == [1, 2]


def test_reingest_is_idempotent(empty_store):
    for _ in range(2):
        ingest(SAMPLE, empty_store, Console(quiet=True))
    assert empty_store.count() == 1000


def test_failed_rebuild_keeps_the_old_index_serving(empty_store):
    ingest(SAMPLE, empty_store, Console(quiet=True))

    def broken_chunks():
        yield [Movie(id=5, title="Half Built")]
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        empty_store.rebuild(broken_chunks())
    assert empty_store.count() == 1000
    assert titles(empty_store.search("Finding Nemo", k=1)) == ["Finding Nemo"]


def test_missing_index_is_unavailable(empty_store):
    assert not empty_store.exists()
    with pytest.raises(SearchUnavailable, match="ingest"):
        empty_store.search("anything")


# -- search methods: dense, hybrid, baseline ---------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_the_same_shape(store, method):
    hits = store.search("a shark terrorizes a beach town", k=5, method=method)
    assert len(hits) == 5 and {h.method for h in hits} == {method}
    assert set(hits[0].to_dict()) == set(store.search("Jaws", k=1, method="lexical")[0].to_dict())


@pytest.mark.parametrize("method", ["dense", "hybrid"])
@pytest.mark.parametrize("query, expected", [
    ("a shark terrorizes a beach town", "Jaws"),
    ("toys that come alive when people leave the room", "Toy Story"),
    ("the ship that hit an iceberg", "Titanic"),
])
def test_paraphrase_is_found(store, method, query, expected):
    found = titles(store.search(query, k=3, method=method))
    assert any(title.startswith(expected) for title in found), found  # "Toy Story 2" counts too


@pytest.mark.parametrize("query, expected", [
    ("a hacker learns reality is a computer simulation", "The Matrix"),
    ("a robot left alone to clean up a deserted earth", "WALL·E"),
])
def test_fusion_ranks_paraphrases_at_least_as_high_as_lexical(store, query, expected):
    """Paraphrases that dense search ranks first: the fused list has them in its top 2, never below lexical
    (the local backend's lexical query ranks them 2nd and 4th)."""
    rank = {m: titles(store.search(query, k=50, method=m)).index(expected) for m in ("lexical", "dense", "hybrid")}
    assert rank["dense"] == 0 and rank["hybrid"] <= min(1, rank["lexical"]), rank


@pytest.mark.parametrize("method", ["dense", "hybrid", "baseline"])
@pytest.mark.parametrize("filters", [
    Filters(year_min=1990, year_max=1999),
    Filters(genres=["Comedy", "Romance"]),
    Filters(language="fr"),
    Filters(min_votes=5000),
    Filters(runtime_max=90),
    Filters(person="Tom Hanks"),
    Filters(year_min=2000, genres=["Science Fiction"], min_rating=7.0),
    Filters(exclude_genres=["Drama", "Romance"]),
    Filters(max_votes=3000),
])
def test_filters_hold_in_every_method(store, method, filters):
    hits = store.search("a love story during the war", filters, k=30, method=method)
    assert hits and all(filters.accepts(h.movie) for h in hits), [h.movie.label() for h in hits]


def test_dense_filter_returns_the_nearest_accepted(store):
    """A selective filter still yields the best accepted neighbours, not fewer than asked."""
    hits = store.search("space adventure", Filters(person="Tom Hanks"), k=5, method="dense")
    assert len(hits) == 5 and all("Tom Hanks" in h.movie.cast for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_hybrid_keeps_exact_titles_first(store):
    for title in ("The Matrix", "Alien", "Finding Nemo", "Avatar"):
        assert titles(store.search(title, k=1, method="hybrid")) == [title]


@pytest.mark.parametrize("question, expected", [
    ("What is the title of the English Horror-Thriller movie released in 2002 with a runtime of 113 minutes?",
     "28 Days Later"),
    ("What is the title of the French Comedy-Romance movie released in 2001 with a runtime of 122 minutes?", "Amélie"),
])
def test_hybrid_finds_a_film_by_the_facts_a_question_states(store, question, expected):
    """Year, language, genres and runtime match the record exactly, where lexical search finds only words."""
    assert expected not in titles(store.search(question, k=10, method="lexical"))
    assert titles(store.search(question, k=1, method="hybrid")) == [expected]


@pytest.mark.parametrize("title", ["Men in Black II", "The Terminator", "Apocalypse Now", "Speed"])
def test_hybrid_puts_a_quoted_title_first(store, title):
    """Without the quoted-title bonus a namesake with more votes or words ranked first for each of these."""
    assert titles(store.search(f"Who are the main cast members in '{title}'?", k=1, method="hybrid")) == [title]


def test_unknown_method_is_refused(store):
    with pytest.raises(ValueError, match="lexical, dense, hybrid, baseline"):
        store.search("Jaws", method="semantic")


def test_without_vectors_hybrid_is_lexical_and_dense_refuses(empty_store):
    ingest(SAMPLE, empty_store, Console(quiet=True))
    lexical = empty_store.search("old man flies his house away with balloons", k=10, method="lexical")
    hybrid = empty_store.search("old man flies his house away with balloons", k=10, method="hybrid")
    assert [h.movie.id for h in hybrid] == [h.movie.id for h in lexical]
    assert {h.method for h in hybrid} == {"lexical"} and not empty_store.has_vectors()
    with pytest.raises(VectorsMissing, match="embed"):
        empty_store.search("anything", method="dense")


def test_vectors_of_another_recipe_are_stale(empty_store, shipped_vectors, tmp_path):
    """After the embedded text changes (EMBEDDING_RECIPE), old vectors no longer serve dense search."""
    ingest(SAMPLE, empty_store, Console(quiet=True))
    chunks = movie_vectors(read_movies(SAMPLE, ReadReport()), empty_store.embedder,
                           VectorCache(tmp_path / "c.sqlite3", empty_store.embedder.model_id), shipped_vectors)
    empty_store.write_vectors(chunks, f"{empty_store.embedder.model_id} an-older-recipe")
    assert not empty_store.has_vectors()
    with pytest.raises(VectorsMissing, match="embed"):
        empty_store.search("anything", method="dense")


def test_vectors_of_another_model_and_size_are_stale_until_replaced(empty_store, shipped_vectors, tmp_path):
    """EMBEDDING_MODELS changed (the MiniLM + e5 ensemble's 768 dimensions -> MiniLM's 384): the old
    vectors serve no dense search, upserts still work, and the new vectors replace them (Elasticsearch
    first needs the rebuild that `ingest` does, as a dense_vector field keeps its size)."""
    ingest(SAMPLE, empty_store, Console(quiet=True))
    old = open_embedder("minilm+e5")
    some = next(read_movies(SAMPLE, ReadReport(), 40))
    empty_store.write_vectors(movie_vectors([some], old, VectorCache(tmp_path / "m.sqlite3", old.model_id)),
                              old.vectors_id)
    assert not empty_store.has_vectors()
    empty_store.upsert([Movie(id=some[0].id, title="Ledger", overview="An accountant balances spreadsheets.")])
    assert titles(empty_store.search("an accountant balances spreadsheets", k=1)) == ["Ledger"]

    def new_vectors() -> int:
        return index_vectors(SAMPLE, empty_store, empty_store.embedder, VectorCache(
            tmp_path / "c.sqlite3", empty_store.embedder.model_id), shipped_vectors, Console(quiet=True)).written

    try:
        written = new_vectors()
    except SearchUnavailable as exc:
        assert "ingest" in str(exc) and "dimension" in str(exc)
        ingest(SAMPLE, empty_store, Console(quiet=True))
        written = new_vectors()
    assert written == 1000 and empty_store.has_vectors()
    assert titles(empty_store.search("a hacker learns reality is a computer simulation", k=1, method="dense")) \
        == ["The Matrix"]


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_ensemble_of_embedding_models_serves_like_one_model(kind, tmp_path, request):
    """EMBEDDING_MODELS=minilm+e5: vectors put together from the models' shipped files, 768 dimensions."""
    request.getfixturevalue("embedder")
    ensemble = open_embedder("minilm+e5")
    store = make_store(kind, tmp_path, request)
    store.embedder = ensemble
    ingest(SAMPLE, store, Console(quiet=True))
    summary = index_vectors(SAMPLE, store, ensemble, VectorCache(tmp_path / "c.sqlite3", ensemble.model_id),
                            ShippedVectors(DEFAULT_VECTORS, ensemble), Console(quiet=True))
    assert (summary.written, summary.embedded) == (1000, 0) and store.has_vectors()
    for method in ("dense", "hybrid"):
        assert titles(store.search("a hacker learns reality is a computer simulation", k=1, method=method)) \
            == ["The Matrix"]
    store.upsert([Movie(id=1, title="Ledger", overview="An accountant balances spreadsheets.")])
    assert titles(store.search("a bookkeeper and his spreadsheets", k=1, method="dense")) == ["Ledger"]


def test_upsert_and_delete_keep_vectors_in_step(empty_store, shipped_vectors, tmp_path):
    ingest(SAMPLE, empty_store, Console(quiet=True))
    index_vectors(SAMPLE, empty_store, empty_store.embedder, VectorCache(tmp_path / "c.sqlite3",
                  empty_store.embedder.model_id), shipped_vectors, Console(quiet=True))
    up = empty_store.search("old man flies his house away with balloons", k=1, method="dense")[0].movie
    empty_store.upsert([Movie(id=up.id, title="Ledger", overview="An accountant balances spreadsheets.")])
    assert titles(empty_store.search("a bookkeeper and his spreadsheets", k=1, method="dense")) == ["Ledger"]
    empty_store.delete([up.id])
    assert up.id not in [h.movie.id for h in empty_store.search("accountant spreadsheets", k=10, method="dense")]


@pytest.mark.parametrize("question, expected, namesake", [
    ("an astronaut left behind on the red planet grows potatoes to survive until he can be rescued", "The Martian",
     "RED"),
    ("ballerina cast as the lead in a famous ballet slowly loses her grip on reality", "Black Swan", "Her"),
])
def test_a_lone_common_word_no_longer_outranks_the_film_described(store, question, expected, namesake):
    """The films called "RED" and "Her" took first place by the exact-title boost for one word of these."""
    assert titles(store.search(question, k=1, method="lexical")) == [expected] != [namesake]
