"""A shared cache outlives a deploy, so its keys name the release of the code and templates."""

from pathlib import Path

from config.settings import cache_settings, source_digest


def key_prefix(monkeypatch, release: str | None) -> str:
    if release is None:
        monkeypatch.delenv("RELEASE", raising=False)
    else:
        monkeypatch.setenv("RELEASE", release)
    return cache_settings("redis://localhost:6379/0")["default"]["KEY_PREFIX"]


def test_a_new_release_reads_none_of_the_old_ones_keys(monkeypatch):
    assert key_prefix(monkeypatch, "abc123") != key_prefix(monkeypatch, "def456")
    assert key_prefix(monkeypatch, "abc123") == key_prefix(monkeypatch, "abc123")


def test_without_a_release_the_prefix_follows_the_source(monkeypatch):
    assert key_prefix(monkeypatch, None) == key_prefix(monkeypatch, None)
    assert key_prefix(monkeypatch, None) != key_prefix(monkeypatch, "abc123")


def test_editing_a_template_changes_the_digest_and_other_files_do_not(tmp_path: Path):
    (tmp_path / "show.html").write_text("<li>{{ episode.title }}</li>")
    (tmp_path / "views.py").write_text("def page(): ...")
    before = source_digest([tmp_path])
    (tmp_path / "notes.txt").write_text("not code")
    assert source_digest([tmp_path]) == before
    (tmp_path / "show.html").write_text("<li class='row'>{{ episode.title }}</li>")
    assert source_digest([tmp_path]) != before


def test_the_local_cache_of_one_process_needs_no_prefix():
    assert "KEY_PREFIX" not in cache_settings("")["default"]
