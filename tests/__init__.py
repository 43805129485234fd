"""Tests of ouchsim: trial-style TestCases, run by both `trial tests` and `pytest`."""
