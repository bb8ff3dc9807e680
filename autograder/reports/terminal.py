"""The score table people read in a terminal."""

from __future__ import annotations

from autograder.results import GradingRun, mark


def render_terminal(run: GradingRun, feedback: bool = True) -> str:
    lines: list[str] = []
    for nb in run.notebooks:
        lines.append(f"== {nb.path}  [{nb.assignment or 'unknown assignment'}]")
        if nb.error:
            lines.append(f"   GRADING FAILED: {nb.error}")
            lines.append("")
            continue
        width = max([len(c.name) for c in nb.checks] + [10])
        lines.append(f"   {'check'.ljust(width)}  {'score':>11}  status   ")
        groups = list(dict.fromkeys(c.exercise for c in nb.checks))
        for c in sorted(nb.checks, key=lambda c: (groups.index(c.exercise), c.hidden)):  # stable: visible, then hidden
            vis = " (hidden)" if c.hidden else ""
            lines.append(f"   {c.name.ljust(width)}  {c.score:>5g} / {c.points:<3g}  {mark(c.status):<8} {c.title}{vis}")
        lines.append(f"   {'TOTAL'.ljust(width)}  {nb.score:>5g} / {nb.max_score:<3g}")
        if nb.manual_points:
            lines.append(f"   (+ {nb.manual_points:g} points of written answers, graded by hand in nbgrader)")
        for e in nb.cell_errors:
            lines.append(f"   note: cell #{e.index} raised {e.error_type}: {e.message.splitlines()[0] if e.message else ''}")
        for note in nb.notes:
            lines.append(f"   note: {note}")
        if feedback:
            failing = [c for c in nb.checks if c.feedback]
            if failing:
                lines.append("   feedback:")
            for c in failing:
                lines.append(f"   - {c.name}:")
                lines.extend("       " + line for line in c.feedback.splitlines())
        lines.append("")
    if len(run.notebooks) > 1:
        lines.append(f"== all notebooks: {run.score:g} / {run.max_score:g}")
    return "\n".join(lines) + "\n"
