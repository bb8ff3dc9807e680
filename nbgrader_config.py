"""nbgrader configuration for regnorm-lab: solutions/ is the source, assignments/ the release."""

c = get_config()  # noqa: F821 - provided by nbgrader/traitlets

c.CourseDirectory.course_id = "regnorm-lab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# Student notebooks must not carry outputs, and locked cells are restored at autograde.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 120
