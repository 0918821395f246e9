"""The computational core: pure torch + numpy, importable in a notebook without Qt."""
