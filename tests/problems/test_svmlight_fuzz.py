"""Property-based tests of the svmlight reader: a correct matrix or a ValueError naming the file and line."""

import gzip

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numopt.problems.libsvm import read_svmlight
from numopt.testing import assert_names_argument

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

rows = st.lists(
    st.tuples(
        st.sampled_from([-1.0, 1.0, 0.0, 2.5]),
        st.dictionaries(st.integers(1, 30), st.floats(-1e6, 1e6, allow_nan=False, width=32), max_size=6),
    ),
    min_size=1, max_size=12,
)


def _format(label, features):
    return " ".join([repr(label)] + [f"{i}:{v!r}" for i, v in sorted(features.items())])


@FUZZ
@given(rows=rows)
def test_well_formed_files_round_trip(tmp_path, rows):
    path = tmp_path / "data.svm"
    path.write_text("\n".join(_format(lab, f) for lab, f in rows) + "\n")
    X, y = read_svmlight(path)
    width = max((max(f) for _, f in rows if f), default=0)
    dense = np.zeros((len(rows), width))
    for r, (_, f) in enumerate(rows):
        for i, v in f.items():
            dense[r, i - 1] = v
    np.testing.assert_array_equal(X.toarray(), dense)
    np.testing.assert_array_equal(y, [lab for lab, _ in rows])


@FUZZ
@given(text=st.text(alphabet=" +-.:#0123456789eEanif\t\nx", max_size=80))
def test_arbitrary_text_gives_a_matrix_or_an_error_naming_the_file(tmp_path, text):
    path = tmp_path / "fuzz.svm"
    path.write_text(text)
    try:
        X, y = read_svmlight(path)
    except ValueError as exc:
        assert str(path) in str(exc)
        return
    assert X.shape[0] == y.size > 0
    assert np.all(np.isfinite(X.data)) and np.all(np.isfinite(y))


@FUZZ
@given(junk=st.binary(min_size=1, max_size=64))
def test_arbitrary_bytes_in_a_gz_file_give_an_error_naming_the_file(tmp_path, junk):
    path = tmp_path / "junk.gz"
    path.write_bytes(junk)
    with pytest.raises(ValueError, match="junk.gz"):
        read_svmlight(path)


def test_repeated_feature_index_is_an_error_not_a_sum(tmp_path):
    path = tmp_path / "dup.svm"
    path.write_text("+1 3:1.0 3:2.0\n")
    assert_names_argument(read_svmlight, path, names="dup.svm", seen=["line 1", "repeated"])


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.svm"
    path.write_text("# only a comment\n\n")
    assert_names_argument(read_svmlight, path, names="empty.svm", seen="no data lines")


def test_gz_that_is_not_gzip_names_the_file(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_text("+1 1:1\n")
    assert_names_argument(read_svmlight, path, names="plain.gz", seen="not a valid gzip")


def test_invalid_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin1.svm"
    path.write_bytes(b"+1 1:1 # caf\xe9\n")
    assert_names_argument(read_svmlight, path, names="latin1.svm", seen="not UTF-8")
    gz = tmp_path / "latin1.svm.gz"
    gz.write_bytes(gzip.compress(b"+1 1:1 # caf\xe9\n"))
    assert_names_argument(read_svmlight, gz, names="latin1.svm.gz", seen="not UTF-8")


def test_long_bad_line_is_shown_whole_up_to_120_characters(tmp_path):
    path = tmp_path / "long.svm"
    line = "+1 " + " ".join(f"{i}:1" for i in range(1, 25)) + " oops"
    path.write_text(line + "\n")
    err = assert_names_argument(read_svmlight, path, names="long.svm", seen="'oops'")
    assert line[:100] in str(err)


def test_missing_file_names_the_path(tmp_path):
    assert_names_argument(read_svmlight, tmp_path / "nope.svm", names="path", seen="nope.svm",
                          errors=FileNotFoundError)
