#!/usr/bin/env bash
# Maintainer check: build the kernels with AddressSanitizer and UndefinedBehaviorSanitizer in a
# scratch copy of the committed tree and run the test suite against that build.
# Usage: tools/sanitize.sh [pytest args]   (needs gcc, and numpy, scipy, Cython, setuptools,
# pytest and hypothesis in the active Python; takes a minute or two)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -C "$here" archive HEAD | tar -x -C "$work"
cd "$work"
CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -g" \
LDFLAGS="-fsanitize=address,undefined" \
    python setup.py -q build_ext --inplace
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
# Python's own allocations are not leaks worth reporting; huge requests must fail, not abort
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
PYTHONPATH="$work" python -c "import conv1dt; assert conv1dt.show_config()['openmp'], 'OpenMP lost in the sanitized build'"
PYTHONPATH="$work" python -m pytest -q -p no:cacheprovider "${@:-tests}"
