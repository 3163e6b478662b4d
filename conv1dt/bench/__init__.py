"""``python -m conv1dt.bench``: conv1dt against its peers, on chosen and on random shapes.

The benchmark is a subpackage of its own, apart from the library (nothing in conv1dt imports
it), so that it ships with conv1dt and runs as ``python -m conv1dt.bench`` wherever conv1dt is
installed, while its modules say what each part does:

* :mod:`~conv1dt.bench.shapes`: the cases (one geometry and an op), the suite, the real-model
  shapes with their sources;
* :mod:`~conv1dt.bench.libs`: each library's way to compute the three ops (NumPy's one matmul
  per tap, TensorFlow, PyTorch, JAX) and the worker process that times one of them; it imports
  nothing from conv1dt, so the peers may run in another environment (``--peers-python``);
* :mod:`~conv1dt.bench.table`: the peer table, every library in turn, in rounds;
* :mod:`~conv1dt.bench.sweep`: random geometries against the NumPy baseline and the roofline;
* :mod:`~conv1dt.bench.contend`: the busy process of ``--contend``;
* :mod:`~conv1dt.bench.cli`: the command line.

The machine's figures for the roofline come from :mod:`conv1dt._runtime.machine`.
"""
from .cli import main

__all__ = ["main"]
