"""``.. solution::``: a worked solution, folded away in HTML.

The body is parsed as ordinary reStructuredText (so its ``>>>`` examples are run by the doctest
builder) and wrapped, for the HTML builder only, in ``<details><summary>...</summary> ...
</details>``: the browser folds it without any script or external resource. Other builders see
the body as it is.

    .. solution:: Solution

       The answer, with doctests.
"""
import html

from docutils import nodes
from docutils.parsers.rst import Directive, directives


class Solution(Directive):
    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {"class": directives.class_option}

    def run(self):
        title = self.arguments[0] if self.arguments else "Solution"
        body = nodes.container(classes=["solution"])
        self.state.nested_parse(self.content, self.content_offset, body)
        summary = html.escape(title)
        opening = nodes.raw("", f'<details class="solution"><summary>{summary}</summary>\n',
                            format="html")
        closing = nodes.raw("", "</details>\n", format="html")
        return [opening, body, closing]


def setup(app):
    app.add_directive("solution", Solution)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
