"""Symbolic layer of spectral-edge: the axioms A1–A3 and the results R1–R12 (SymPy only).

docs/spec.md §3 states three axioms and §4 twelve results. Here each axiom is a set of SymPy
relations (:mod:`spectral_edge.theory.axioms`) and each result a
:class:`~spectral_edge.theory.derivation.Derivation`
built by SymPy doing the algebra (differentiation, series, solving, limits) from those
relations. A derivation records its ordered steps and carries claims that compare derived
expressions with the closed forms of docs/spec.md §4 typed independently; ``check()`` decides them.

Modules: :mod:`spectral_edge.theory.symbols`, :mod:`spectral_edge.theory.axioms`,
:mod:`spectral_edge.theory.derivation`; one module
per family of results — :mod:`spectral_edge.theory.signal_flow` (R1),
:mod:`spectral_edge.theory.gap_flow` (R2, R4,
R12), :mod:`spectral_edge.theory.noise` (R3, R10), :mod:`spectral_edge.theory.stability` (R5,
R8, R9),
:mod:`spectral_edge.theory.loss_decomposition` (R6), :mod:`spectral_edge.theory.maximality`
(R7), :mod:`spectral_edge.theory.krylov`
(R11); :mod:`spectral_edge.theory.registry` lists them all;
:mod:`spectral_edge.theory.lambdified` turns derived
right-hand sides into NumPy callables, :mod:`spectral_edge.theory.render` derivations into
LaTeX/Markdown.

Imports go down only: ``theory`` imports neither ``numerics`` nor ``validation``.

>>> from spectral_edge.theory.registry import derivation
>>> derivation("R1").check().passed
True
"""
