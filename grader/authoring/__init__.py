"""Instructor side: read and check a source folder, generate the release and the
executed solutions, write the public tests' fixture data."""
