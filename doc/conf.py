"""Sphinx configuration: numpydoc docstrings, an autosummary API reference,
the examples/ gallery (sphinx-gallery) and the Markdown user guide (MyST).

Build (extra ``doc``)::

    python -m sphinx -W -b html doc doc/_build/html
"""

import os
import sys

import skexplain

sys.path.insert(0, os.path.abspath(".."))

project = "skexplain"
author = "the skexplain developers"
copyright = "2026, the skexplain developers"
version = release = skexplain.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "generated_gallery/*.ipynb", "**.zip"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_static_path = []

# no network at build time: intersphinx only if the inventories are cached
intersphinx_mapping = {}

# The gallery executes only these examples (each well under 30 s); the others
# are shown with their code but not run (sphinx-gallery executes the files
# matching filename_pattern).
EXECUTED_EXAMPLES = ("plot_quickstart", "plot_tradeoff", "plot_agreement")
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/(" + "|".join(EXECUTED_EXAMPLES) + r")\.py$",
    "download_all_examples": False,
    "plot_gallery": "True",
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
}
