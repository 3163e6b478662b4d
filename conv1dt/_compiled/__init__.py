"""The compiled layer: the kernels (Cython, ``*.pyx``; the C layer in ``src/``) and what they share
(``*.pxd``). Private: ``conv1dt/_dispatch.py`` runs the kernels the planner chose."""
