# cython: language_level=3
"""Index arithmetic shared by the kernel modules: Python's floor division, and the narrow rows
that one tap links to a stretch of wide rows (``o = i*s + off``, ``off = k*d - pad_before``)."""


cdef inline Py_ssize_t floordiv(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """Python's ``a // b`` for ``b > 0``. Written with non-negative operands only, where C's and
    Python's division agree (a ``cdivision`` decorator on an inline function of a .pxd is not
    applied, so ``a // b`` here is Python's, and C's truncation cannot be assumed either way)."""
    if a >= 0:
        return a // b
    return -((-a + b - 1) // b)


cdef inline Py_ssize_t first_row(Py_ssize_t off, Py_ssize_t s) noexcept nogil:
    """Smallest ``i >= 0`` with ``i*s + off >= 0``: ``ceil(-off / s)`` for ``off < 0``, else 0."""
    if off >= 0:
        return 0
    return (-off + s - 1) // s


cdef inline Py_ssize_t end_row(Py_ssize_t off, Py_ssize_t s, Py_ssize_t L) noexcept nogil:
    """Smallest ``i >= 0`` with ``i*s + off >= L``: ``ceil((L - off) / s)``, or 0 when ``off >= L``."""
    if off >= L:
        return 0
    return (L - off + s - 1) // s
