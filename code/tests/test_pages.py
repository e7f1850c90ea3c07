"""What readers see of an executed chapter: one parameters cell, no glue bookkeeping (bnrates.book.pages)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from bnrates.book.pages import present, split_bookkeeping
from bnrates.book.toc import read_toc

MIXED = """from myst_nb import glue
import numpy as np

x = np.arange(3)
glue("n", len(x), display=False)
for name, value in {"a": 1, "b": 2}.items():
    glue(name, value, display=False)
glue("shown", x)  # displayed: not bookkeeping
print(x)"""


def test_split_moves_only_whole_bookkeeping_statements() -> None:
    shown, hidden = split_bookkeeping(MIXED)
    assert shown == 'import numpy as np\n\nx = np.arange(3)\nglue("shown", x)  # displayed: not bookkeeping\nprint(x)'
    assert hidden.splitlines() == [
        "from myst_nb import glue",
        'glue("n", len(x), display=False)',
        'for name, value in {"a": 1, "b": 2}.items():',
        "    glue(name, value, display=False)",
    ]
    assert split_bookkeeping("x = 1\nprint(x)") is None
    assert split_bookkeeping("%timeit x\nglue('a', 1, display=False)") is None  # magics: left alone
    assert split_bookkeeping("x = 1; glue('a', x, display=False)") is None  # shared line: left alone


def notebook() -> nbformat.NotebookNode:
    glued = nbformat.v4.new_output(
        "display_data", data={"text/plain": "3"}, metadata={"scrapbook": {"name": "n", "mime_prefix": ""}}
    )
    printed = nbformat.v4.new_output("stream", name="stdout", text="[0 1 2]\n")
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                'profile = "full"  # or "quick"\nseed = 0\nresults_dir = "../i"  # the pipeline\'s\nkappa = 50.0',
                metadata={"tags": ["parameters"]},
            ),
            nbformat.v4.new_code_cell(
                '# Parameters\nprofile = "quick"\nseed = 3\nresults_dir = "../r"\n',
                metadata={"tags": ["injected-parameters"]},
            ),
            nbformat.v4.new_code_cell(MIXED, outputs=[glued, printed]),
            nbformat.v4.new_code_cell('glue("m", 1, display=False)'),
        ]
    )


def test_present_merges_the_injected_parameters_and_hides_glue() -> None:
    nb = notebook()
    shown = present(nb)
    assert len(nb.cells) == 4  # the input is not changed
    parameters, pipeline, computing, glue, glue_only = shown.cells
    assert parameters.source == 'profile = "quick"  # or "quick"\nseed = 3\nkappa = 50.0'
    assert parameters.metadata.tags == ["parameters", "hide-input"]
    # the pipeline's own parameter: out of sight, with the chapter's default (a download still runs)
    assert pipeline.source == 'results_dir = "../i"  # the pipeline\'s' and pipeline.metadata.tags == ["remove-cell"]
    assert pipeline.id == f"{parameters.id}-pipeline"
    assert "glue" not in computing.source.replace('glue("shown"', "")
    assert [o.output_type for o in computing.outputs] == ["stream"]
    assert glue.metadata.tags == ["remove-cell"] and [o.metadata["scrapbook"]["name"] for o in glue.outputs] == ["n"]
    assert glue.id == f"{computing.id}-glue"
    assert glue_only.metadata.tags == ["remove-cell"]
    nbformat.validate(shown)
    assert present(shown) == shown  # idempotent: the pipeline caches presented notebooks


def test_rendered_chapters_have_one_collapsed_parameters_cell_and_no_glue(built: Path) -> None:
    for name in (c.name for c in read_toc(built) if c.notebook):
        page = (built / "_build" / "html" / "chapters" / f"{name}.html").read_text()
        assert page.count("tag_parameters") == 1, name
        assert re.search(r'<div class="cell tag_parameters tag_hide-input docutils container">', page), name
        assert "injected-parameters" not in page and "# Parameters" not in page, name
        shown = re.search(r"tag_parameters.*?</pre>", page, re.DOTALL).group(0)
        assert "profile" in shown and "seed" in shown and "results_dir" not in shown, name
        code = " ".join(re.findall(r'<div class="highlight[^"]*"><pre>(.*?)</pre>', page, re.DOTALL))
        assert code and "glue" not in re.sub(r"<[^>]+>", "", code), name
    repar = (built / "_build" / "html" / "chapters" / "reparametrization.html").read_text()
    cell = re.search(r"tag_parameters.*?</pre>", repar, re.DOTALL).group(0)
    assert re.search(r'seed</span> <span class="o">=</span> <span class="mi">3</span>', cell), cell  # the override
