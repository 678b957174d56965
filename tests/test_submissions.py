"""Finding submissions and naming students."""

import pytest

from grader.errors import UsageError
from grader.grading.submissions import content_hash, find_submissions


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def test_loose_files_and_folders(tmp_path):
    a = touch(tmp_path / "alice.ipynb")
    touch(tmp_path / "more" / "bob.ipynb")
    touch(tmp_path / "more" / ".ipynb_checkpoints" / "bob-checkpoint.ipynb")
    touch(tmp_path / "more" / "notes.txt")
    found = find_submissions([a, tmp_path / "more"])
    assert [(s.student, s.path.name) for s in found] == [
        ("alice", "alice.ipynb"),
        ("bob", "bob.ipynb"),
    ]


def test_a_zip_made_on_macos_gives_only_the_notebook(tmp_path):
    """Gradescope unpacks the zip as it is: the resource forks are not second notebooks."""
    touch(tmp_path / "HW.ipynb")
    touch(tmp_path / "__MACOSX" / "._HW.ipynb")
    touch(tmp_path / "._HW.ipynb")
    assert [s.path.name for s in find_submissions([tmp_path])] == ["HW.ipynb"]


def test_nbgrader_tree_takes_student_from_folder(tmp_path):
    for student in ("s1", "s2"):
        touch(tmp_path / "course" / "submitted" / student / "dnn_step_by_step" / "HW.ipynb")
    found = find_submissions([tmp_path / "course"])
    assert [s.student for s in found] == ["s1", "s2"]


def test_a_course_folder_gives_only_its_submitted_notebooks(tmp_path):
    course = tmp_path / "course"
    touch(course / "submitted" / "s1" / "dnn" / "HW.ipynb")
    for other in (
        "source/dnn/HW.ipynb",
        "release/dnn/HW.ipynb",
        "autograded/s1/dnn/HW.ipynb",
        "feedback/s1/dnn/HW.ipynb",
        "scratch.ipynb",
    ):
        touch(course / other)
    assert [(s.student, s.path.parent.parent.parent.name) for s in find_submissions([course])] == [
        ("s1", "submitted")
    ]
    assert len(find_submissions([course / "source", course / "release"])) == 2  # if asked


def test_same_name_in_two_folders_stays_two_students(tmp_path):
    touch(tmp_path / "x" / "hw.ipynb")
    touch(tmp_path / "y" / "hw.ipynb")
    assert [s.student for s in find_submissions([tmp_path])] == ["x/hw", "y/hw"]


def test_a_file_given_twice_is_graded_once(tmp_path):
    a = touch(tmp_path / "a.ipynb")
    assert len(find_submissions([a, tmp_path])) == 1


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        find_submissions([tmp_path / "missing.ipynb"])


def test_content_hash_depends_on_content_only():
    assert content_hash(b"x") == content_hash(b"x") != content_hash(b"y")
