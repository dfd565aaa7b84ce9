"""Surveys drawn from a population model (``simulate``) and Monte Carlo power studies
(``power``)."""
