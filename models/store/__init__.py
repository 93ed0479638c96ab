"""Loaders and writers: the only modules that query the database. The caller owns the
transaction unless a function says otherwise."""
