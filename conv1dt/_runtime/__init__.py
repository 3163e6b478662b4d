"""The runtime: conv1dt's threads, the BLAS's threads, the floating-point mode, the machine's
constants and ``show_config()``. Private: the public names are re-exported by ``conv1dt``."""
