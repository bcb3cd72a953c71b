"""The ``journeygym`` command and its front ends, one module per command.

Libraries never import this package. Exit statuses shared by the commands:
0 done; 1 a check failed (``calibrate``, ``validate``) or a cell failed
(``run``); 2 bad input (the message says what and how to fix it); 3 a fit did
not converge (``fit-hmm``, ``uplift``); 4 an artifact that cannot be read
(:class:`~journeygym.envs.artifact.ArtifactError`); 130 interrupted.
"""

from journeygym.cli.app import CommandError, build_parser, main

__all__ = ["CommandError", "build_parser", "main"]
