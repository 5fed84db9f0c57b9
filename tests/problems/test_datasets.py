"""The data catalog and `numopt data`: fetch verifies content, offline gives one clear message."""

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from numopt.cli import main
from numopt.problems import datasets
from numopt.problems.libsvm import load

SHARED = datasets.data_folder()


def _need_shared(*parts):
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (set NUMOPT_DATA to the shared data folder)")
    return path


def _served_from_shared(url: str) -> bytes:
    """A fake official source that serves the files of the shared data folder in their upstream form."""
    name = url.rsplit("/", 1)[-1]
    if url.startswith(datasets.LIBSVM_URL):
        return gzip.decompress(_need_shared("libsvm", f"{name}.gz").read_bytes())
    if url == datasets.MOVIELENS_URL:
        folder = _need_shared("movielens", "ml-latest-small")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            ratings = gzip.decompress((folder / "ratings.csv.gz").read_bytes()).replace(b"\r\n", b"\n")
            archive.writestr("ml-latest-small/ratings.csv", ratings)
            archive.writestr("ml-latest-small/README.txt", (folder / "README.txt").read_bytes())
        return buffer.getvalue()
    if name == "cyto_full_data.csv":
        return gzip.decompress(_need_shared("sachs", "cyto_full_data.csv.gz").read_bytes())
    if name == "cyto_full_target.csv":
        return _need_shared("sachs", name).read_bytes()
    raise AssertionError(f"unexpected URL {url}")


def _offline(url):
    raise datasets.DownloadError(f"could not download {url}: <urlopen error [Errno -3] no network>")


@pytest.mark.parametrize("name", ["heart_scale", "movielens", "sachs"])
def test_fetch_installs_and_verifies_each_kind(tmp_path, name):
    folder = datasets.fetch(name, tmp_path, read=_served_from_shared)
    assert datasets.is_present(name, tmp_path)
    assert datasets.CATALOG[name].verify(tmp_path)
    assert folder.is_relative_to(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_fetched_libsvm_file_loads_like_the_shared_copy(tmp_path):
    datasets.fetch("heart_scale", tmp_path, read=_served_from_shared)
    X, y = load("heart_scale", data_home=tmp_path, download=False)
    X0, y0 = load("heart_scale", data_home=SHARED, download=False)
    assert (X != X0).nnz == 0 and (y == y0).all()


def test_corrupted_download_is_not_installed(tmp_path):
    def corrupted(url):
        return _served_from_shared(url).replace(b"0.708333", b"0.708334", 1)

    with pytest.raises(datasets.DownloadError, match="does not match the expected content of heart_scale"):
        datasets.fetch("heart_scale", tmp_path, read=corrupted)
    assert not datasets.is_present("heart_scale", tmp_path)
    assert not (tmp_path / "libsvm").exists()


def test_garbage_download_is_a_clear_error(tmp_path):
    with pytest.raises(datasets.DownloadError, match="did not parse as movielens"):
        datasets.fetch("movielens", tmp_path, read=lambda url: b"<html>not found</html>")


def test_offline_fetch_names_the_url_and_the_target_folder(tmp_path):
    with pytest.raises(datasets.DownloadError) as info:
        datasets.fetch("a9a", tmp_path / "data", read=_offline)
    message = str(info.value)
    assert datasets.CATALOG["a9a"].source in message and str(tmp_path / "data" / "libsvm") in message
    assert not (tmp_path / "data").exists()


def test_present_data_is_not_downloaded_again(tmp_path):
    datasets.fetch("heart_scale", tmp_path, read=_served_from_shared)
    assert datasets.fetch("heart_scale", tmp_path, read=_offline) == tmp_path / "libsvm"
    with pytest.raises(datasets.DownloadError):
        datasets.fetch("heart_scale", tmp_path, read=_offline, force=True)


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="name='mushroom' is not valid.*Did you mean 'mushrooms'"):
        datasets.fetch("mushroom")


def test_cli_data_list_shows_every_set_and_presence(tmp_path, capsys):
    datasets.fetch("sonar_scale", tmp_path, read=_served_from_shared)
    assert main(["data", "list", "--data-home", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:] if line and not line[0].isspace()}
    assert set(rows) == set(datasets.CATALOG)
    assert rows["sonar_scale"] == "yes" and rows["a9a"] == "no"


def test_cli_data_fetch_offline_prints_one_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(datasets, "read_url", _offline)
    assert main(["data", "fetch", "w8a", "--data-home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("numopt data: error: could not download")
    assert "binary/w8a" in err[0] and str(Path(tmp_path) / "libsvm") in err[0]
