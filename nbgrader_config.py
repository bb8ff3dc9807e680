"""nbgrader configuration for regnorm-lab: solutions/ is the source, assignments/ the release."""

c = get_config()  # noqa: F821 - provided by nbgrader/traitlets

c.CourseDirectory.course_id = "regnorm-lab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# Student notebooks must not carry outputs, and locked cells are restored at autograde.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 120

# --- autograde (instructor workflow; see docs/INSTRUCTORS.md) ------------------------------------
# nbgrader gives a test cell 0 points as soon as anything reaches stderr. A harmless warning (a torch
# UserWarning raised while a check calls the student's function) must not cost points, and
# `autograder grade` ignores it too. So the autograde kernel shows Python warnings on stdout (still
# visible in the feedback), and output written straight to file descriptor 2 by C++ code goes to the
# kernel's log instead of the notebook. Errors still count: they are `error` outputs, not stderr.
_SHOW_WARNINGS_ON_STDOUT = (
    "__import__('warnings').showwarning = lambda m, c, f, l, file=None, line=None: "
    "__import__('sys').stdout.write(__import__('warnings').formatwarning(m, c, f, l, line))"
)
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    f"--IPKernelApp.exec_lines={_SHOW_WARNINGS_ON_STDOUT}",
    "--IPKernelApp.capture_fd_output=False",
]

# The solution's jupytext source (solutions/NN_name/NN_name.py) is instructor-only: never released.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "[0-9][0-9]_*.py"]

# --- autograde with the sandboxed engine (DESIGN.md §1) -----------------------------------------
# nbgrader's Execute would run the test cells in the student's kernel, where a submission can rebind
# `check`, patch the comparisons or hide the test cells' output. GradeWithEngine takes its place: the
# notebook (locked cells already restored by OverwriteCells) is graded by `autograder`'s engine and
# each test cell's output becomes the engine's feedback and points. See autograder/nbgrader_autograde.py.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from autograder.nbgrader_autograde import GradeWithEngine  # noqa: E402

c.Autograde.autograde_preprocessors = [
    GradeWithEngine, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]
