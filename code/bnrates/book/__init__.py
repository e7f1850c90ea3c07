"""The book pipeline: execute every chapter with papermill, render with Jupyter Book, check and publish.

``python -m bnrates.book build|notebooks|results`` (:mod:`bnrates.book.build`). The modules, by job:
:mod:`~bnrates.book.toc` (the table of contents and the one list of the book's files),
:mod:`~bnrates.book.execute`, :mod:`~bnrates.book.cache`, :mod:`~bnrates.book.build`,
:mod:`~bnrates.book.transaction`; what chapters save and what readers see
(:mod:`~bnrates.book.provenance`, :mod:`~bnrates.book.report`, :mod:`~bnrates.book.pages`,
:mod:`~bnrates.book.edition`, :mod:`~bnrates.book.sphinxext`); around the built book
(:mod:`~bnrates.book.launch`, :mod:`~bnrates.book.browsercheck`, :mod:`~bnrates.book.interactivecheck`,
:mod:`~bnrates.book.publish`).

Importing this package loads nothing else: chapters import :mod:`bnrates.book.provenance` without
the pipeline's dependencies.
"""
