"""Build the compiled kernels; everything declarative lives in pyproject.toml.

Only what has to be code is here: the extension list and the OpenMP probe. As scikit-learn does, we
try to compile and link a tiny OpenMP program; if the compiler cannot, the kernels are built without
``-fopenmp`` (Cython's ``prange`` then runs serially) and we say so once, here, at build time.
``conv1dt.show_config()`` reports the outcome at run time.

The C layer (``conv1dt/_compiled/src``) is compiled here too, each file with the flags of its
instruction set (``ISA_FLAGS``): the kernels' baseline variants and the runtime dispatch portably,
their AVX2 and AVX-512 variants (x86-64 with GCC or Clang only) with ``-mavx2 -mfma`` and
``-mavx512f ...``; the objects are linked into the one extension ``C_LAYER`` (so the dispatch's state exists once;
the other kernels reach the C layer through it). ``conv1dt/_compiled/src/dispatch.c`` picks one
set at run time (``CONV1DT_CPU`` lowers it).


Environment switches (``1`` turns a switch on):

- ``CONV1DT_NATIVE``: add ``-march=native`` (host-specific; off by default so wheels stay portable);
- ``CONV1DT_REQUIRE_OPENMP``: fail the build when OpenMP is not available, instead of building serial
  kernels (wheel builds set it, see ``[tool.cibuildwheel]`` in pyproject.toml);
- ``CONV1DT_NO_OPENMP``: build without OpenMP on purpose (to test the serial build);
- ``CONV1DT_DEBUG``: keep the compiler's debug information (by default ``-g0``: no debug symbols).
"""
import os
import platform
import shlex
import shutil
import sys
import tempfile
import textwrap
import warnings

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

OPENMP_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        return n > 0 ? 0 : 1;
    }
    """
)


def _openmp_flags(compiler):
    """Return (compile_args, link_args) that enable OpenMP for ``compiler``, or None."""
    if compiler.compiler_type == "msvc":
        candidates = [(["/openmp"], [])]
    elif sys.platform == "darwin":
        candidates = [(["-Xpreprocessor", "-fopenmp"], ["-lomp"]), (["-fopenmp"], ["-fopenmp"])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as fh:
            fh.write(OPENMP_PROBE)
        for cflags, lflags in candidates:
            try:
                objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
                # LDFLAGS reach the extension's link, so they must reach the probe's too
                compiler.link_executable(objs, "probe", output_dir=tmp, extra_postargs=lflags,
                                         extra_preargs=shlex.split(os.environ.get("LDFLAGS", "")))
            except Exception:  # any compile or link failure means "not with these flags"
                continue
            return cflags, lflags
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# The C layer: its files per instruction set, and the flags each set adds (GCC and Clang).
C_SOURCES = {
    "baseline": ["dispatch.c", "scratch.c", "place.c", "direct_baseline.c", "skinny_baseline.c"],
    "avx2": ["direct_avx2.c", "tiled_avx2.c", "skinny_avx2.c"],
    "avx512": ["direct_avx512.c", "tiled_avx512.c", "skinny_avx512.c"],
}
ISA_FLAGS = {
    "baseline": [],
    "avx2": ["-mavx2", "-mfma"],
    "avx512": ["-mavx512f", "-mavx512cd", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"],
}
C_DIR = "conv1dt/_compiled/src"
C_HEADERS = [f"{C_DIR}/{name}" for name in ("kernels.h", "direct_impl.h", "tiled_impl.h",
                                             "skinny_impl.h")]
C_DEPENDS = C_HEADERS + [f"{C_DIR}/{name}" for files in C_SOURCES.values() for name in files]
C_LAYER = "conv1dt._compiled._cpu"     # the one extension the C layer is linked into


def _c_layer(compiler, build_temp, cflags):
    """Compile the C layer, each file with its instruction set's flags; return the objects."""
    x86 = platform.machine().lower() in ("x86_64", "amd64") and compiler.compiler_type != "msvc"
    objects = []
    for isa, files in C_SOURCES.items():
        if isa != "baseline" and not x86:
            continue     # the variants are x86-64 only (the dispatch knows: CONV1DT_X86_VARIANTS)
        sources = [os.path.join(C_DIR, name) for name in files]
        objects += compiler.compile(sources, output_dir=build_temp, include_dirs=[C_DIR],
                                    extra_postargs=cflags + ISA_FLAGS[isa], depends=C_HEADERS)
    return objects


def _switch(name):
    """True when the environment variable ``name`` is set to anything but empty or ``0``."""
    return os.environ.get(name, "") not in ("", "0")


NO_OPENMP_NOTICE = """
**********************************************************************************************
conv1dt: building WITHOUT OpenMP ({reason}).
The kernels will run on ONE thread: set_num_threads(n > 1) warns and has no effect.
To build with OpenMP, use a compiler that supports it (GCC; Clang with libomp, e.g. on macOS
`brew install libomp` and CPPFLAGS/LDFLAGS pointing at it). Set CONV1DT_REQUIRE_OPENMP=1 to
make this an error instead.
**********************************************************************************************
"""


def _no_openmp(reason):
    """Say loudly that the build is serial, or stop it when CONV1DT_REQUIRE_OPENMP is set."""
    if _switch("CONV1DT_REQUIRE_OPENMP"):
        raise RuntimeError(f"conv1dt: OpenMP is required (CONV1DT_REQUIRE_OPENMP=1) but {reason}")
    notice = NO_OPENMP_NOTICE.format(reason=reason)
    sys.stderr.write(notice)
    sys.stderr.flush()
    # pip shows a build's warnings (as BuildBackendWarning) even without -v, unlike its output
    warnings.warn(f"conv1dt: building WITHOUT OpenMP ({reason}): the kernels will run on one thread. "
                  "Set CONV1DT_REQUIRE_OPENMP=1 to make this an error.", stacklevel=1)


class BuildExt(build_ext):
    """build_ext that probes for OpenMP, compiles the C layer with per-file flags and records the
    flags it used in the extension."""

    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        base = ["/O2"] if msvc else ["-O3"]
        if _switch("CONV1DT_NATIVE") and not msvc:
            base.append("-march=native")
        if not msvc and not _switch("CONV1DT_DEBUG"):
            base.append("-g0")   # after Python's own CFLAGS (which often hold -g): no debug symbols
        if _switch("CONV1DT_NO_OPENMP"):
            omp, reason = None, "CONV1DT_NO_OPENMP is set"
        else:
            omp, reason = _openmp_flags(self.compiler), "the compiler cannot build an OpenMP program"
        if omp is None:
            _no_openmp(reason)
            cflags, lflags = base, []
        else:
            cflags, lflags = base + omp[0], omp[1]
        objects = _c_layer(self.compiler, self.build_temp, base)
        for ext in self.extensions:
            if ext.name == C_LAYER:
                ext.extra_objects = list(objects)
            ext.extra_compile_args = list(cflags)
            ext.extra_link_args = list(lflags)
            ext.define_macros.append(("CONV1DT_CFLAGS", '"%s"' % " ".join(cflags)))
        super().build_extensions()


def _extension(name, depends=(), include_dirs=()):
    """The extension ``conv1dt._compiled.<name>`` from ``conv1dt/_compiled/<name>.pyx``."""
    return Extension(
        f"conv1dt._compiled.{name}",
        [f"conv1dt/_compiled/{name}.pyx"],
        include_dirs=[np.get_include(), *include_dirs],
        depends=list(depends),
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
    )


SHARED = ["conv1dt/_compiled/_loop.pxd", "conv1dt/_compiled/_items.pxd", "conv1dt/_compiled/_blas.pxd",
          "conv1dt/_compiled/_index.pxd"]
extensions = [
    _extension("_cpu", C_DEPENDS + ["conv1dt/_compiled/_cpu.pxd"], [C_DIR]),
    _extension("_transpose", SHARED + ["conv1dt/_compiled/_cpu.pxd"]),
    _extension("_conv1d", SHARED),
    _extension("_gemm", SHARED + ["conv1dt/_compiled/_cpu.pxd"]),
    _extension("_front"),
]

setup(
    ext_modules=cythonize(extensions, language_level=3),
    cmdclass={"build_ext": BuildExt},
)
